namespace Distill.ServiceDefaults;

/// <summary>
/// Turns <c>--flag value</c> arguments into configuration keys, so options bind the same from
/// flags, environment variables and appsettings. Unknown flags are errors (a typo must not be silently ignored).
/// </summary>
public static class CommandLineFlags
{
    public static IReadOnlyDictionary<string, string?> ToConfiguration(
        IReadOnlyList<string> args, IReadOnlyDictionary<string, string> flags, IReadOnlySet<string> booleanFlags)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < args.Count; i++)
        {
            var argument = args[i];
            var (flag, inlineValue) = argument.Split('=', 2) is [var f, var v] ? (f, v) : (argument, null);
            if (!flags.TryGetValue(flag, out var key))
                throw new OptionsValidationProblem(flag.StartsWith("--", StringComparison.Ordinal)
                    ? $"unknown flag {flag}; known flags: {string.Join(" ", flags.Keys.Order())}."
                    : $"unexpected argument '{argument}': options are given as --flag value.");

            string? value = inlineValue;
            if (value is null)
            {
                bool nextIsValue = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
                if (booleanFlags.Contains(flag) && !nextIsValue) value = "true";
                else if (nextIsValue) value = args[++i];
                else throw new OptionsValidationProblem($"{flag} needs a value.");
            }
            values[key] = value;
        }
        return values;
    }
}

/// <summary>A flag or option value that cannot be understood; the message names the flag.</summary>
public sealed class OptionsValidationProblem(string message) : Exception(message);
