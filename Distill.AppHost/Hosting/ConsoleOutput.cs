namespace Distill.AppHost.Hosting;

/// <summary>Every resource's console output in one terminal, each line prefixed with its resource's name.</summary>
internal static class ConsoleOutput
{
    private static readonly ConsoleColor[] Palette =
        [ConsoleColor.Cyan, ConsoleColor.Green, ConsoleColor.Magenta, ConsoleColor.Yellow, ConsoleColor.Blue, ConsoleColor.DarkCyan];
    private static readonly Dictionary<string, ConsoleColor> Colors = new(StringComparer.Ordinal);
    private static readonly object Gate = new();

    public static void Line(string resource, string line, bool isError = false)
    {
        lock (Gate)
        {
            if (!Colors.TryGetValue(resource, out var color))
                Colors[resource] = color = Palette[Colors.Count % Palette.Length];
            var previous = Console.ForegroundColor;
            Console.ForegroundColor = color;
            Console.Write($"{resource,-10}| ");
            Console.ForegroundColor = isError ? ConsoleColor.Red : previous;
            Console.WriteLine(line);
            Console.ForegroundColor = previous;
        }
    }

    public static void Status(string resource, string message, bool isError = false) =>
        Line("apphost", $"{resource}: {message}", isError);
}
