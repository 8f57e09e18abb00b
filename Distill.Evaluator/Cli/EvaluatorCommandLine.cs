using System.Collections;
using System.CommandLine;
using System.Globalization;
using Distill.Core.Divergence;

namespace Distill.Evaluator.Cli;

/// <summary>What a command runs with: the configuration its flags set, and the arguments it takes directly.</summary>
public sealed record CommandInput(IReadOnlyDictionary<string, string?> Configuration, IReadOnlyList<string> RunDirectories);

/// <summary>
/// The evaluator's commands: <c>serve</c> (the default), <c>evaluate</c>, <c>watch</c> and <c>compare</c>. Each flag
/// writes one configuration key, so a flag, an environment variable (<c>Evaluator__SamplesPerProblem</c>) and
/// appsettings.json are three ways to say the same thing, and the options are validated in one place.
/// </summary>
public sealed class EvaluatorCommandLine
{
    private const string Section = EvaluatorOptions.SectionName + ":";

    private readonly List<(Option Option, Func<ParseResult, IEnumerable<KeyValuePair<string, string?>>> Values)> bindings = [];

    private readonly Option<string> runDirectory = new("--run-dir") { Description = "The run directory to watch (written by the trainer)." };
    private readonly Option<string> runsRoot = new("--runs-root") { Description = "A folder of run directories whose evaluations the HTTP API serves." };
    private readonly Option<string[]> checkpoints = new("--checkpoint") { Description = "A checkpoint directory to evaluate; repeat for several.", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string> output = new("--out") { Description = "Where reports go (evaluate: for checkpoints outside a run directory; compare: the table and Pareto plot)." };
    private readonly Option<Uri> teacher = new("--teacher") { Description = "The teacher service's base URL (default: service discovery of 'teacher').", CustomParser = ParseAbsoluteUri };
    private readonly Option<string> teacherCheckpoint = new("--teacher-checkpoint") { Description = "The teacher's checkpoint directory, for its own accuracy on the held-out set." };
    private readonly Option<string> device = new("--device") { Description = "cpu, cuda, cuda:N or auto." };
    private readonly Option<string> data = new("--data") { Description = "Held-out set: a GSM8K or MATH JSONL file (default: generated test-split problems)." };
    private readonly Option<int?> problems = new("--problems") { Description = "How many held-out problems." };
    private readonly Option<int?> dataSeed = new("--data-seed") { Description = "Seed of the generated held-out problems." };
    private readonly Option<int?> samples = new("--samples") { Description = "Sampled completions per problem (pass@1, KL and CSR)." };
    private readonly Option<double?> temperature = new("--temperature") { Description = "Sampling temperature." };
    private readonly Option<int?> maxNewTokens = new("--max-new-tokens") { Description = "Longest completion generated." };
    private readonly Option<int?> batchSize = new("--batch-size") { Description = "Completions generated and scored together." };
    private readonly Option<int?> seed = new("--seed") { Description = "Sampling seed." };
    private readonly Option<double?> threshold = new("--threshold") { Description = "KL threshold d (default: the run's)." };
    private readonly Option<CostEstimator?> estimator = new("--cost-estimator") { Description = "k1, k3 or top-k-exact (default: the run's).", CustomParser = result => ParseEnum<CostEstimator>(result) };
    private readonly Option<CostAggregation?> aggregation = new("--cost-aggregation") { Description = "sum or mean (default: the run's).", CustomParser = result => ParseEnum<CostAggregation>(result) };
    private readonly Option<int?> topK = new("--top-k") { Description = "k of the top-k exact estimator." };
    private readonly Option<double[]> sweep = new("--sweep") { Description = "Thresholds of the CSR sweep (default: d × 1/8 … 8).", AllowMultipleArgumentsPerToken = true };
    private readonly Option<TimeSpan?> pollInterval = new("--poll-interval") { Description = "How often a watched run directory is read, e.g. 00:00:02." };
    private readonly Argument<string[]> runs = new("run-dir") { Description = "Run directories to compare.", Arity = ArgumentArity.OneOrMore };

    public EvaluatorCommandLine()
    {
        Bind(runDirectory, "RunDirectory");
        Bind(runsRoot, "RunsRoot");
        Bind(checkpoints, "Checkpoints");
        Bind(output, "OutputDirectory");
        Bind(teacher, "TeacherClient:BaseAddress", inEvaluatorSection: false);
        Bind(teacherCheckpoint, "TeacherCheckpoint");
        Bind(device, "Device");
        Bind(data, "DataFile");
        Bind(problems, "Problems");
        Bind(dataSeed, "DataSeed");
        Bind(samples, "SamplesPerProblem");
        Bind(temperature, "Temperature");
        Bind(maxNewTokens, "MaxNewTokens");
        Bind(batchSize, "BatchSize");
        Bind(seed, "Seed");
        Bind(threshold, "Threshold");
        Bind(estimator, "Estimator");
        Bind(aggregation, "Aggregation");
        Bind(topK, "TopK");
        Bind(sweep, "SweepThresholds");
        Bind(pollInterval, "PollInterval");
    }

    /// <summary>
    /// The root command; each action gets its flags as configuration. The root itself serves the HTTP API, so the
    /// AppHost can start the evaluator with no arguments.
    /// </summary>
    public RootCommand Create(
        Func<CommandInput, CancellationToken, Task<int>> serve,
        Func<CommandInput, CancellationToken, Task<int>> evaluate,
        Func<CommandInput, CancellationToken, Task<int>> watch,
        Func<CommandInput, CancellationToken, Task<int>> compare)
    {
        Option[] generation = [teacher, teacherCheckpoint, device, data, problems, dataSeed, samples, temperature, maxNewTokens, batchSize, seed,
            threshold, estimator, aggregation, topK, sweep];

        var serveCommand = Command("serve", "Serve the stored evaluations over HTTP (GET /v1/evaluations, /health).", serve, runsRoot, runDirectory);
        var evaluateCommand = Command("evaluate", "Evaluate checkpoints once, write their reports, exit 1 if any failed.", evaluate, [checkpoints, output, .. generation]);
        checkpoints.Required = true;
        var watchCommand = Command("watch", "Evaluate each checkpoint of a run as it is announced; serve the results over HTTP; exit once the run is complete.",
            watch, [runDirectory, runsRoot, pollInterval, .. generation]);
        watchCommand.Validators.Add(result =>
        {
            if (result.GetResult(runDirectory) is null) result.AddError("watch needs --run-dir.");
        });
        var compareCommand = Command("compare", "One table over runs: objective, threshold, accuracy, CSR, mean KL, tokens; plus the Pareto plot.", compare, output);
        compareCommand.Arguments.Add(runs);

        var root = new RootCommand("Distill evaluator: did distillation work, and did it keep the student within its KL budget?");
        foreach (var option in serveCommand.Options) root.Options.Add(option);
        root.SetAction((parse, cancellation) => serve(InputOf(parse), cancellation));
        root.Subcommands.Add(serveCommand);
        root.Subcommands.Add(evaluateCommand);
        root.Subcommands.Add(watchCommand);
        root.Subcommands.Add(compareCommand);
        return root;
    }

    private Command Command(string name, string description, Func<CommandInput, CancellationToken, Task<int>> action, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options) command.Options.Add(option);
        command.SetAction((parse, cancellation) => action(InputOf(parse), cancellation));
        return command;
    }

    private CommandInput InputOf(ParseResult parse) => new(
        bindings.SelectMany(binding => binding.Values(parse)).ToDictionary(),
        parse.GetResult(runs) is null ? [] : parse.GetValue(runs) ?? []);

    private void Bind<T>(Option<T> option, string key, bool inEvaluatorSection = true)
    {
        var fullKey = inEvaluatorSection ? Section + key : key;
        bindings.Add((option, parse => parse.GetResult(option) is { Implicit: false } ? Entries(fullKey, parse.GetValue(option)) : []));
    }

    /// <summary>A value as configuration entries: a list becomes <c>Key:0</c>, <c>Key:1</c>, … as the binder expects.</summary>
    private static IEnumerable<KeyValuePair<string, string?>> Entries(string key, object? value) => value switch
    {
        null => [],
        string text => [new(key, text)],
        IEnumerable items => items.Cast<object>().Select((item, i) => new KeyValuePair<string, string?>($"{key}:{i}", Invariant(item))),
        _ => [new(key, Invariant(value))],
    };

    private static string? Invariant(object value) => Convert.ToString(value, CultureInfo.InvariantCulture);

    private static Uri? ParseAbsoluteUri(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri)) return uri;
        result.AddError($"--teacher must be an absolute URL (got '{text}').");
        return null;
    }

    /// <summary>Accepts the kebab-case names the reports use ("top-k-exact") as well as the enum's own.</summary>
    private static TEnum? ParseEnum<TEnum>(System.CommandLine.Parsing.ArgumentResult result) where TEnum : struct, Enum
    {
        var text = result.Tokens.Single().Value;
        if (Enum.TryParse<TEnum>(text.Replace("-", ""), ignoreCase: true, out var value)) return value;
        result.AddError($"'{text}' is not one of {string.Join(", ", Enum.GetValues<TEnum>().Select(Reports.Format.Name))}.");
        return null;
    }
}
