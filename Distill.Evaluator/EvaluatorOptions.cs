using Distill.Core.Divergence;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator;

/// <summary>
/// Everything the evaluator is told, bound from the <c>Evaluator</c> section; each command-line flag writes one key
/// (<see cref="Cli.EvaluatorCommandLine"/>), so configuration files, environment variables and flags all work alike.
/// </summary>
public sealed class EvaluatorOptions
{
    public const string SectionName = "Evaluator";

    /// <summary><c>--run-dir</c>: the run to watch (watch), or to serve alone.</summary>
    public string? RunDirectory { get; set; }

    /// <summary><c>--runs-root</c>: a folder of run directories whose evaluations the HTTP API serves.</summary>
    public string? RunsRoot { get; set; }

    /// <summary><c>--checkpoint</c>: checkpoint directories to evaluate once (evaluate).</summary>
    public List<string> Checkpoints { get; set; } = [];

    /// <summary><c>--out</c>: where reports of checkpoints outside a run directory go.</summary>
    public string? OutputDirectory { get; set; }

    /// <summary><c>--teacher-checkpoint</c>: the teacher's checkpoint, for its own accuracy on the held-out set.</summary>
    public string? TeacherCheckpoint { get; set; }

    /// <summary><c>--device</c>: cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; set; } = "auto";

    /// <summary><c>--data</c>: a GSM8K- or MATH-style JSONL held-out set; without it, generated test-split problems.</summary>
    public string? DataFile { get; set; }

    /// <summary><c>--problems</c>: how many held-out problems (the first N of the file, or N generated).</summary>
    public int Problems { get; set; } = 64;

    /// <summary>
    /// <c>--split</c>: which split the generated held-out problems come from: <c>test</c>, or <c>validation</c> for choices
    /// made before the test set is looked at (the experiment's learning-rate sweep). Never <c>train</c>.
    /// </summary>
    public Core.Tasks.ProblemSplit Split { get; set; } = Core.Tasks.ProblemSplit.Test;

    /// <summary><c>--data-seed</c>: the seed of the generated held-out problems.</summary>
    public int DataSeed { get; set; } = 20_240_601;

    /// <summary>
    /// <c>--blind-spot</c>: the verb (or comma-separated verbs) of the teacher's blind spot (<see cref="Core.Tasks.TeacherBlindSpot"/>); when set,
    /// every metric is also reported for that family of problems and for the rest. The default models' is "loses".
    /// </summary>
    public string? BlindSpot { get; set; }

    /// <summary><c>--samples</c>: sampled completions per problem, for pass@1 and the KL and CSR statistics.</summary>
    public int SamplesPerProblem { get; set; } = 4;

    /// <summary><c>--temperature</c>: sampling temperature of the sampled completions; by default the run's τ (run.json), else 1.</summary>
    public double? Temperature { get; set; }

    /// <summary><c>--max-new-tokens</c>: the longest completion generated.</summary>
    public int MaxNewTokens { get; set; } = 128;

    /// <summary><c>--batch-size</c>: completions generated and scored together.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary><c>--seed</c>: the sampling seed, so an evaluation can be repeated exactly.</summary>
    public int Seed { get; set; } = 1;

    /// <summary><c>--threshold</c>: the KL threshold d; by default the run's (run.json).</summary>
    public double? Threshold { get; set; }

    /// <summary>
    /// <c>--cost-estimator</c>: k1, k3, top-k-exact or exact. By default the lowest-variance one the teacher allows:
    /// exact when it returns its whole distribution, else top-k exact at its largest k, else k1.
    /// </summary>
    public CostEstimator? Estimator { get; set; }

    /// <summary><c>--cost-aggregation</c>: sum or mean; by default the run's.</summary>
    public CostAggregation? Aggregation { get; set; }

    /// <summary><c>--top-k</c>: k of the top-k exact estimator when <c>--cost-estimator top-k-exact</c> is given; by default the teacher's largest.</summary>
    public int? TopK { get; set; }

    /// <summary><c>--sweep</c>: thresholds for the CSR sweep; by default d × (1/8, 1/4, 1/2, 1, 2, 4, 8).</summary>
    public List<double> SweepThresholds { get; set; } = [];

    /// <summary>
    /// watch: evaluate the run's starting student as step 0 too, so the run's summary says what training changed
    /// (<c>Evaluator__EvaluateStart</c>; the AppHost sets it).
    /// </summary>
    public bool EvaluateStart { get; set; }

    /// <summary>watch: keep serving the API and the reports page after the run is complete, until stopped (<c>--keep-running</c> of the AppHost).</summary>
    public bool KeepServing { get; set; }

    /// <summary><c>--poll-interval</c>: how often a watched run directory is read.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The sweep for threshold d: the flag's thresholds, or multiples of d around it.</summary>
    public IReadOnlyList<double> SweepFor(double threshold) =>
        SweepThresholds.Count > 0 ? SweepThresholds : [.. new[] { 0.125, 0.25, 0.5, 1, 2, 4, 8 }.Select(factor => factor * threshold)];
}

/// <summary>Checks the options at start-up; each message names the flag to fix.</summary>
public sealed class EvaluatorOptionsValidator : IValidateOptions<EvaluatorOptions>
{
    public ValidateOptionsResult Validate(string? name, EvaluatorOptions options)
    {
        var errors = new List<string>();
        void Require(bool condition, string flag, string requirement, object? value)
        {
            if (!condition) errors.Add($"{flag} must be {requirement} (got {value ?? "nothing"}).");
        }
        Require(options.Problems >= 1, "--problems", "at least 1", options.Problems);
        Require(options.SamplesPerProblem >= 1, "--samples", "at least 1", options.SamplesPerProblem);
        Require(options.Temperature is null || (options.Temperature > 0 && double.IsFinite(options.Temperature.Value)), "--temperature", "a positive number", options.Temperature);
        Require(options.MaxNewTokens >= 1, "--max-new-tokens", "at least 1", options.MaxNewTokens);
        Require(options.BatchSize >= 1, "--batch-size", "at least 1", options.BatchSize);
        Require(options.Threshold is null || (options.Threshold > 0 && double.IsFinite(options.Threshold.Value)), "--threshold", "a positive number", options.Threshold);
        Require(options.TopK is null || options.TopK >= 1, "--top-k", "at least 1", options.TopK);
        Require(options.SweepThresholds.All(d => d > 0 && double.IsFinite(d)), "--sweep", "positive numbers", string.Join(",", options.SweepThresholds));
        Require(options.PollInterval > TimeSpan.Zero, "--poll-interval", "positive", options.PollInterval);
        Require(options.DataFile is null || File.Exists(options.DataFile), "--data", "an existing file", options.DataFile);
        // The trainer draws its prompts from the train split: scoring on it would measure memorisation.
        Require(options.Split != Core.Tasks.ProblemSplit.Train, "--split", "test or validation", Core.Configuration.KebabCaseEnum.Spelling(options.Split));
        Require(options.BlindSpot is null || Core.Tasks.TeacherBlindSpot.IsVerbList(options.BlindSpot), "--blind-spot", "one verb, or verbs separated by commas, without spaces", options.BlindSpot);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
