namespace Distill.CommandLine;

/// <summary>How a flag takes its value.</summary>
public enum FlagKind
{
    /// <summary><c>--steps 50</c> or <c>--steps=50</c>.</summary>
    Value,

    /// <summary>A boolean: <c>--resume</c> alone means true; <c>--resume false</c> turns it off.</summary>
    Switch,

    /// <summary>One or more values, <c>--checkpoint a b</c> or repeated; bound as <c>Key:0</c>, <c>Key:1</c>, ….</summary>
    List,
}

/// <summary>
/// A command-line flag, declared once: its name, the configuration key it writes, what it means and its default. From
/// it come the System.CommandLine option (and so its line in <c>--help</c>) and the configuration value options bind
/// from, so a flag, an environment variable and appsettings.json are three ways to say the same thing.
/// </summary>
/// <param name="Name">The flag as typed, with its dashes: <c>--threshold</c>.</param>
/// <param name="Key">The configuration key it sets: <c>Trainer:Threshold</c>.</param>
/// <param name="Description">What it means, for <c>--help</c>.</param>
public sealed record Flag(string Name, string Key, string Description)
{
    public FlagKind Kind { get; init; } = FlagKind.Value;

    /// <summary>The default shown in <c>--help</c>; null when there is none (or it depends on something else, said in the description).</summary>
    public string? Default { get; init; }

    /// <summary>The spellings a value may take (enum flags); a value outside them is a parse error naming the flag.</summary>
    public IReadOnlyList<string>? Choices { get; init; }

    /// <summary>A parse error unless the flag is given.</summary>
    public bool Required { get; init; }

    /// <summary>
    /// What each value must be, checked at parse time so a typo is named by its flag before anything starts:
    /// <see cref="FlagChecks"/> has the common ones. Returns what is expected ("an integer") when the value is not that.
    /// </summary>
    public Func<string, string?>? Check { get; init; }

    /// <summary>A value flag.</summary>
    public static Flag Value(string name, string key, string description, string? defaultValue = null) =>
        new(name, key, description) { Default = defaultValue };

    /// <summary>A boolean flag that may stand alone.</summary>
    public static Flag Switch(string name, string key, string description, bool defaultValue = false) =>
        new(name, key, description) { Kind = FlagKind.Switch, Default = defaultValue ? "true" : "false" };

    /// <summary>A flag taking several values.</summary>
    public static Flag List(string name, string key, string description, string? defaultValue = null) =>
        new(name, key, description) { Kind = FlagKind.List, Default = defaultValue };
}

/// <summary>Checks for <see cref="Flag.Check"/>: each returns what a value must be, or null when it is one.</summary>
public static class FlagChecks
{
    public static string? Integer(string value) =>
        int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _) ? null : "an integer";

    public static string? Number(string value) =>
        double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _) ? null : "a number";

    // "teacher:5000" is an absolute URI with the scheme "teacher": only http(s) is a service address.
    public static string? AbsoluteUri(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? null : "an absolute http(s) URL";

    public static string? Duration(string value) =>
        TimeSpan.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out _) ? null : "a duration such as 00:00:02";
}
