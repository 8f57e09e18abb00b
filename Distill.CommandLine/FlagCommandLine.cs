using System.CommandLine;
using System.CommandLine.Parsing;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace Distill.CommandLine;

/// <summary>
/// Flags on System.CommandLine commands, and back out as configuration. A program declares its flags once
/// (<see cref="Flag"/>), adds them to its root command or subcommands (<see cref="AddFlags{TCommand}"/>), runs it with
/// <see cref="InvokeAsync"/> (parse errors become <c>error: …</c> lines and exit code 2; <c>--help</c> lists every flag
/// with its default and meaning), and in its action binds its options from <see cref="ToConfiguration(ParseResult)"/>.
/// </summary>
public static class FlagCommandLine
{
    // Which flag each option was made from, so a parse result can be read back as configuration.
    private static readonly ConditionalWeakTable<Option, Flag> FlagsOf = [];

    /// <summary>
    /// The flags, completed from the options type they bind to: a flag without a <see cref="Flag.Default"/> shows the
    /// value its key has in <paramref name="defaults"/> (a new options object), so <c>--help</c> reports the options
    /// type's own defaults instead of a second copy of them; a flag without a <see cref="Flag.Check"/> gets the one of
    /// its property's type (integer, number, duration, URL), so "--steps many" is a parse error naming the flag rather
    /// than a binding failure at start-up. Keys are matched as <c>{section}:{Property}</c>; enums are written by their
    /// type converter (kebab-case, where the enum declares it); null and NaN show no default. A property renamed with
    /// [ConfigurationKeyName] is found by that name (matched by the attribute's type name: this library references
    /// System.CommandLine only).
    /// </summary>
    public static IReadOnlyList<Flag> BoundTo(this IEnumerable<Flag> flags, object defaults, string section) =>
    [
        .. flags.Select(flag =>
        {
            if (!flag.Key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase))
                return flag;
            var name = flag.Key[(section.Length + 1)..];
            var property = defaults.GetType().GetProperties().FirstOrDefault(property =>
                string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase)
                || property.GetCustomAttributes(true).Any(attribute => attribute.GetType().Name == "ConfigurationKeyNameAttribute"
                    && string.Equals(attribute.GetType().GetProperty("Name")?.GetValue(attribute) as string, name, StringComparison.OrdinalIgnoreCase)));
            if (property is null)
                return flag;
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (type.IsGenericType && type.GetGenericArguments() is [var item]) type = item; // List<double>: each value a number
            // Enums are checked by their Choices; their type code is their underlying integer's.
            var check = flag.Check ?? (flag.Kind == FlagKind.Switch || type.IsEnum ? null : Type.GetTypeCode(type) switch
            {
                TypeCode.Int32 or TypeCode.Int64 => FlagChecks.Integer,
                TypeCode.Double or TypeCode.Single => FlagChecks.Number,
                _ when type == typeof(TimeSpan) => FlagChecks.Duration,
                _ when type == typeof(Uri) => FlagChecks.AbsoluteUri,
                _ => null,
            });
            // NaN is how a required number says "not given yet": no default to show.
            var value = property.GetValue(defaults);
            var defaultText = flag.Default ?? value switch
            {
                null or double.NaN => null,
                bool boolean => boolean ? "true" : "false",
                System.Collections.ICollection { Count: 0 } => null,
                _ => TypeDescriptor.GetConverter(value.GetType()).ConvertToInvariantString(value),
            };
            return flag with { Default = defaultText, Check = check };
        }),
    ];

    /// <summary>Adds an option per flag to <paramref name="command"/>.</summary>
    public static TCommand AddFlags<TCommand>(this TCommand command, IEnumerable<Flag> flags) where TCommand : Command
    {
        foreach (var flag in flags)
            command.Options.Add(OptionOf(flag));
        return command;
    }

    /// <summary>The option a flag becomes; each call makes a new one (an option may be added to several commands).</summary>
    public static Option OptionOf(Flag flag)
    {
        Option option = flag.Kind switch
        {
            FlagKind.Switch => new Option<bool>(flag.Name) { Arity = ArgumentArity.ZeroOrOne },
            FlagKind.List => new Option<string[]>(flag.Name) { AllowMultipleArgumentsPerToken = true, Arity = ArgumentArity.OneOrMore },
            _ => new Option<string>(flag.Name),
        };
        option.Description = flag.Choices is { Count: > 0 } choices
            ? $"{flag.Description} One of {string.Join(", ", choices)}."
            : flag.Description;
        option.Required = flag.Required;
        // Shown by --help as [default: …]; a value never given is not written to configuration (see ToConfiguration),
        // so the options type's own default is what binds, and the help text only reports it.
        if (flag.Default is { } defaultValue)
        {
            switch (option)
            {
                // System.CommandLine's help leaves out a boolean's default, and --resume's (true) matters.
                case Option<bool>: option.Description += $" [default: {defaultValue}]"; break;
                case Option<string[]> list: list.DefaultValueFactory = _ => [defaultValue]; break;
                case Option<string> text: text.DefaultValueFactory = _ => defaultValue; break;
            }
        }
        if (flag.Choices is { Count: > 0 } allowed && option is Option<string> choice)
        {
            choice.Validators.Add(result =>
            {
                if (result.Implicit) return;
                var value = result.GetValueOrDefault<string>();
                if (!allowed.Contains(value?.Trim(), StringComparer.OrdinalIgnoreCase))
                    result.AddError($"{flag.Name} must be one of {string.Join("|", allowed)} (got {value}).");
            });
        }
        if (flag.Check is { } check)
        {
            option.Validators.Add(result =>
            {
                if (result.Implicit) return;
                var values = result.Tokens.Select(token => token.Value);
                foreach (var value in values)
                    if (check(value) is { } expected)
                        result.AddError($"{flag.Name} must be {expected} (got {value}).");
            });
        }
                FlagsOf.AddOrUpdate(option, flag);
        return option;
    }

    /// <summary>
    /// The configuration the flags given on the command line set, on the command that runs and those above it. A flag
    /// not given writes nothing, so configuration files and environment variables still apply below the command line.
    /// </summary>
    public static Dictionary<string, string?> ToConfiguration(this ParseResult parse)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (SymbolResult? result = parse.CommandResult; result is not null; result = result.Parent)
        {
            if (result is not CommandResult command) continue;
            foreach (var given in command.Children.OfType<OptionResult>())
            {
                if (given.Implicit || !FlagsOf.TryGetValue(given.Option, out var flag) || values.ContainsKey(flag.Key)) continue;
                switch (flag.Kind)
                {
                    case FlagKind.Switch:
                        values[flag.Key] = given.GetValueOrDefault<bool>() ? "true" : "false";
                        break;
                    case FlagKind.List:
                        var items = given.GetValueOrDefault<string[]>() ?? [];
                        for (int i = 0; i < items.Length; i++)
                            values[$"{flag.Key}:{i}"] = items[i];
                        break;
                    default:
                        values[flag.Key] = given.GetValueOrDefault<string>();
                        break;
                }
            }
        }
        return values;
    }

    /// <summary>
    /// Flags to configuration without a command to run, for a program that binds its options before it does anything
    /// else. There is no <c>--help</c> here: that needs a command (<see cref="InvokeAsync"/>).
    /// </summary>
    /// <exception cref="OptionsValidationProblem">An unknown flag or a missing value; the message names the flag.</exception>
    public static Dictionary<string, string?> ToConfiguration(IEnumerable<Flag> flags, IReadOnlyList<string> args)
    {
        var parse = new Command("flags").AddFlags(flags).Parse(args);
        if (parse.Errors.Count > 0)
            throw new OptionsValidationProblem(string.Join(Environment.NewLine, Messages(parse.Errors)));
        return parse.ToConfiguration();
    }

    /// <summary>
    /// Parses <paramref name="args"/> and runs the chosen command. A parse error, or an
    /// <see cref="OptionsValidationProblem"/> from the action, is written as <c>error: …</c> to standard error and
    /// returns <see cref="ExitCodes.Usage"/>; other exceptions propagate (they are bugs or faults, not usage).
    /// </summary>
    public static async Task<int> InvokeAsync(this RootCommand root, IReadOnlyList<string> args,
        TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        error ??= Console.Error;
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in Messages(parse.Errors))
                await error.WriteLineAsync($"error: {problem}");
            await error.WriteLineAsync($"(see {root.Name} --help)");
            return ExitCodes.Usage;
        }
        try
        {
            // No signal handling here: each program stops on Ctrl+C its own way (a host drains, a trainer checkpoints).
            var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
            if (output is not null) configuration.Output = output;
            configuration.Error = error;
            return await parse.InvokeAsync(configuration, cancellationToken);
        }
        catch (OptionsValidationProblem problem)
        {
            foreach (var line in problem.Message.Split(Environment.NewLine))
                await error.WriteLineAsync($"error: {line}");
            return ExitCodes.Usage;
        }
    }

    private const string Unrecognized = "Unrecognized command or argument ";

    // System.CommandLine says "Unrecognized command or argument '--treshold'." and then the same of its value; a flag
    // is what was meant, and its value is no second problem.
    private static IEnumerable<string> Messages(IEnumerable<ParseError> errors)
    {
        bool afterUnknownFlag = false;
        foreach (var error in errors)
        {
            if (error.Message.StartsWith(Unrecognized, StringComparison.Ordinal))
            {
                var token = error.Message[Unrecognized.Length..].TrimEnd('.').Trim('\'');
                if (token.StartsWith("--", StringComparison.Ordinal))
                {
                    afterUnknownFlag = true;
                    yield return $"unknown flag {token}.";
                    continue;
                }
                if (afterUnknownFlag)
                {
                    afterUnknownFlag = false;
                    continue;
                }
            }
            afterUnknownFlag = false;
            yield return error.Message;
        }
    }
}
