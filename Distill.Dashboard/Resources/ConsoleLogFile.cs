using System.Text;

namespace Distill.Dashboard.Resources;

/// <summary>
/// Reads the end of a console log that a running process is still appending to (the app host keeps one file per
/// resource), without reading the whole file: trainer logs grow large.
/// </summary>
public static class ConsoleLogFile
{
    private const int BlockSize = 64 * 1024;

    /// <summary>The last <paramref name="max"/> complete lines of the file, oldest first; none when it does not exist.</summary>
    public static IReadOnlyList<string> ReadLastLines(string path, int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        if (max == 0 || !File.Exists(path)) return [];

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long end = file.Length;
        long start = end;
        int newlines = 0;
        var block = new byte[BlockSize];
        // Walk back block by block until the bytes read hold more line breaks than lines wanted.
        while (start > 0 && newlines <= max)
        {
            int length = (int)Math.Min(BlockSize, start);
            start -= length;
            file.Position = start;
            file.ReadExactly(block, 0, length);
            newlines += block.AsSpan(0, length).Count((byte)'\n');
        }

        var tail = new byte[end - start];
        file.Position = start;
        file.ReadExactly(tail);
        var lines = Encoding.UTF8.GetString(tail).Split('\n').Select(line => line.TrimEnd('\r')).ToList();
        // The text after the last line break is empty, or a line still being written.
        lines.RemoveAt(lines.Count - 1);
        // Read from the middle of the file, the first piece is the end of a line that began earlier.
        if (start > 0 && lines.Count > 0) lines.RemoveAt(0);
        return lines.Count > max ? lines[^max..] : lines;
    }
}
