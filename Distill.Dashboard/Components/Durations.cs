using System.Globalization;

namespace Distill.Dashboard.Components;

internal static class Durations
{
    /// <summary>"850μs", "12.3ms", "4.21s": short enough for a table cell, precise enough to compare spans.</summary>
    public static string Format(TimeSpan duration) => duration.TotalMilliseconds switch
    {
        < 1 => $"{duration.TotalMicroseconds.ToString("0", CultureInfo.InvariantCulture)}μs",
        < 1000 => $"{duration.TotalMilliseconds.ToString("0.##", CultureInfo.InvariantCulture)}ms",
        _ => $"{duration.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)}s",
    };
}
