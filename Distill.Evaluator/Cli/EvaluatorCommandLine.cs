using System.CommandLine;
using Distill.CommandLine;
using Distill.Core.Configuration;
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
    private static string Key(string property) => $"{EvaluatorOptions.SectionName}:{property}";

    private static readonly Flag RunDirectory = Flag.Value("--run-dir", Key(nameof(EvaluatorOptions.RunDirectory)), "The run directory to watch (written by the trainer).");
    private static readonly Flag RunsRoot = Flag.Value("--runs-root", Key(nameof(EvaluatorOptions.RunsRoot)), "A folder of run directories whose evaluations the HTTP API serves.");
    private static readonly Flag Checkpoints = Flag.List("--checkpoint", Key(nameof(EvaluatorOptions.Checkpoints)), "A checkpoint directory to evaluate; repeat for several.") with { Required = true };
    private static readonly Flag Output = Flag.Value("--out", Key(nameof(EvaluatorOptions.OutputDirectory)), "Where reports go (evaluate: for checkpoints outside a run directory; compare: the table and Pareto plot).");
    private static readonly Flag PollInterval = Flag.Value("--poll-interval", Key(nameof(EvaluatorOptions.PollInterval)), "How often a watched run directory is read.");

    /// <summary>How a checkpoint is evaluated: the flags of <c>evaluate</c> and <c>watch</c>.</summary>
    public static readonly IReadOnlyList<Flag> GenerationFlags = new[]
    {
        Flag.Value("--teacher", "TeacherClient:BaseAddress", "The teacher service's base URL (default: service discovery of 'teacher').") with { Check = FlagChecks.AbsoluteUri },
        Flag.Value("--teacher-checkpoint", Key(nameof(EvaluatorOptions.TeacherCheckpoint)), "The teacher's checkpoint directory, for its own accuracy on the held-out set."),
        Flag.Value("--device", Key(nameof(EvaluatorOptions.Device)), "cpu, cuda, cuda:N or auto."),
        Flag.Value("--data", Key(nameof(EvaluatorOptions.DataFile)), "Held-out set: a GSM8K or MATH JSONL file (default: generated test-split problems)."),
        Flag.Value("--problems", Key(nameof(EvaluatorOptions.Problems)), "How many held-out problems."),
        new Flag("--split", Key(nameof(EvaluatorOptions.Split)), "Split of the generated held-out problems: test, or validation for choices made before the test set is read.")
            { Choices = ["test", "validation"] },
        Flag.Value("--data-seed", Key(nameof(EvaluatorOptions.DataSeed)), "Seed of the generated held-out problems."),
        Flag.Value("--samples", Key(nameof(EvaluatorOptions.SamplesPerProblem)), "Sampled completions per problem (pass@1, KL and CSR)."),
        Flag.Value("--blind-spot", Key(nameof(EvaluatorOptions.BlindSpot)), "The teacher's blind-spot verb (or comma-separated verbs): also report every metric for that family and for the rest."),
        Flag.Value("--temperature", Key(nameof(EvaluatorOptions.Temperature)), "Sampling temperature (default: the run's τ, else 1)."),
        Flag.Value("--max-new-tokens", Key(nameof(EvaluatorOptions.MaxNewTokens)), "Longest completion generated."),
        Flag.Value("--batch-size", Key(nameof(EvaluatorOptions.BatchSize)), "Completions generated and scored together."),
        Flag.Value("--seed", Key(nameof(EvaluatorOptions.Seed)), "Sampling seed."),
        Flag.Value("--threshold", Key(nameof(EvaluatorOptions.Threshold)), "KL threshold d (default: the run's)."),
        new Flag("--cost-estimator", Key(nameof(EvaluatorOptions.Estimator)),
            "How the KL is estimated (default: the lowest-variance one the teacher allows).") { Choices = KebabCaseEnum.Spellings<CostEstimator>() },
        new Flag("--cost-aggregation", Key(nameof(EvaluatorOptions.Aggregation)), "C as the sum or the mean of c_t (default: the run's).") { Choices = KebabCaseEnum.Spellings<CostAggregation>() },
        Flag.Value("--top-k", Key(nameof(EvaluatorOptions.TopK)), "k of the top-k exact estimator (default: the teacher's largest)."),
        Flag.List("--sweep", Key(nameof(EvaluatorOptions.SweepThresholds)), "Thresholds of the CSR sweep (default: d × 1/8 … 8)."),
    }.BoundTo(new EvaluatorOptions(), EvaluatorOptions.SectionName);

    private readonly Argument<string[]> runs = new("run-dir") { Description = "Run directories to compare.", Arity = ArgumentArity.OneOrMore };

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
        Flag[] serveFlags = [.. new[] { RunsRoot, RunDirectory }.BoundTo(new EvaluatorOptions(), EvaluatorOptions.SectionName)];
        var serveCommand = Command("serve", "Serve the stored evaluations over HTTP (GET /v1/evaluations, /health).", serve, serveFlags);
        var evaluateCommand = Command("evaluate", "Evaluate checkpoints once, write their reports, exit 1 if any failed.", evaluate,
            [Checkpoints, Output, .. GenerationFlags]);
        var watchCommand = Command("watch", "Evaluate each checkpoint of a run as it is announced; serve the results over HTTP; exit once the run is complete.",
            watch, [RunDirectory with { Required = true }, RunsRoot, .. new[] { PollInterval }.BoundTo(new EvaluatorOptions(), EvaluatorOptions.SectionName), .. GenerationFlags]);
        var compareCommand = Command("compare", "One table over runs: objective, threshold, accuracy, CSR, mean KL, tokens; plus the Pareto plot.", compare, Output);
        compareCommand.Arguments.Add(runs);

        var root = new RootCommand("Distill evaluator: did distillation work, and did it keep the student within its KL budget?").AddFlags(serveFlags);
        root.SetAction((parse, cancellation) => serve(InputOf(parse), cancellation));
        root.Subcommands.Add(serveCommand);
        root.Subcommands.Add(evaluateCommand);
        root.Subcommands.Add(watchCommand);
        root.Subcommands.Add(compareCommand);
        return root;
    }

    private Command Command(string name, string description, Func<CommandInput, CancellationToken, Task<int>> action, params Flag[] flags)
    {
        var command = new Command(name, description).AddFlags(flags);
        command.SetAction((parse, cancellation) => action(InputOf(parse), cancellation));
        return command;
    }

    private CommandInput InputOf(ParseResult parse) => new(parse.ToConfiguration(), parse.GetResult(runs) is null ? [] : parse.GetValue(runs) ?? []);
}
