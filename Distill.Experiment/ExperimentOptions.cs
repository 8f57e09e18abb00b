using System.Globalization;
using Distill.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace Distill.Experiment;

/// <summary>
/// What the experiment runs, from its flags. The defaults are the documented experiment (docs/results.md); the smoke
/// test in the suite shrinks them. Every run of one experiment gets the same schedule, so the same number of steps and
/// of teacher-scored samples.
/// </summary>
public sealed class ExperimentOptions
{
    public string Output { get; set; } = "data/experiment";
    public string Models { get; set; } = "data/models";
    public string Device { get; set; } = "auto";
    public string Thresholds { get; set; } = "8,12,16";
    public string Seeds { get; set; } = "1,2,3";
    public string Objectives { get; set; } = "cmdp,lagrangian,kl-penalty,reward-only,distill";
    public string KlCoefficients { get; set; } = "0.05,0.2";
    public bool Sensitivity { get; set; } = true;
    public string Penalties { get; set; } = "0.5,2";
    public string Kappas { get; set; } = "0,0.3";
    public string LambdaLearningRates { get; set; } = "0.001,0.03";

    // The schedule every run shares.
    public int Steps { get; set; } = 40;
    public int BatchSize { get; set; } = 16;
    public int GroupSize { get; set; } = 8;
    public double LearningRate { get; set; } = 1e-4;
    public int WarmupSteps { get; set; } = 10;
    public double Temperature { get; set; } = 0.7;
    public int MaxNewTokens { get; set; } = 48;
    public int CheckpointEvery { get; set; } = 10;

    // The held-out evaluation of every final checkpoint (and of the starting student).
    public int EvaluationProblems { get; set; } = 200;
    public int EvaluationSamples { get; set; } = 4;

    public static readonly IReadOnlyDictionary<string, string> Flags = new Dictionary<string, string>
    {
        ["--out"] = nameof(Output), ["--models"] = nameof(Models), ["--device"] = nameof(Device),
        ["--thresholds"] = nameof(Thresholds), ["--seeds"] = nameof(Seeds), ["--objectives"] = nameof(Objectives),
        ["--kl-coefs"] = nameof(KlCoefficients), ["--sensitivity"] = nameof(Sensitivity), ["--penalties"] = nameof(Penalties),
        ["--kappas"] = nameof(Kappas), ["--lambda-lrs"] = nameof(LambdaLearningRates), ["--steps"] = nameof(Steps),
        ["--batch-size"] = nameof(BatchSize), ["--group-size"] = nameof(GroupSize), ["--lr"] = nameof(LearningRate),
        ["--warmup-steps"] = nameof(WarmupSteps), ["--temperature"] = nameof(Temperature),
        ["--max-new-tokens"] = nameof(MaxNewTokens), ["--checkpoint-every"] = nameof(CheckpointEvery),
        ["--eval-problems"] = nameof(EvaluationProblems), ["--eval-samples"] = nameof(EvaluationSamples),
    };

    public static readonly IReadOnlySet<string> BooleanFlags = new HashSet<string> { "--sensitivity" };

    /// <summary>The RL objectives (the factory's list; sft samples nothing, so it has no CSR to compare).</summary>
    public static readonly IReadOnlyList<string> KnownObjectives =
        [.. StudentTrainer.Objectives.TrainingObjectiveFactory.Names.Where(name => !StudentTrainer.Objectives.TrainingObjectiveFactory.IsSupervised(name))];

    /// <summary>Options from flags; the message of the exception names the flag.</summary>
    /// <exception cref="OptionsValidationProblem">An unknown flag, a value of the wrong type, or an invalid value.</exception>
    public static ExperimentOptions Parse(IReadOnlyList<string> args)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(CommandLineFlags.ToConfiguration(args, Flags, BooleanFlags))
            .Build();
        ExperimentOptions options;
        try
        {
            options = configuration.Get<ExperimentOptions>() ?? new ExperimentOptions();
        }
        catch (InvalidOperationException error)
        {
            var flag = Flags.FirstOrDefault(f => error.Message.Contains($"'{f.Value}'", StringComparison.Ordinal)).Key ?? "a flag";
            throw new OptionsValidationProblem($"{flag} has a value of the wrong type: {error.InnerException?.Message ?? error.Message}");
        }
        if (options.Validate() is { Count: > 0 } problems)
            throw new OptionsValidationProblem(string.Join(Environment.NewLine, problems));
        return options;
    }

    public IReadOnlyList<double> ThresholdValues => Numbers("--thresholds", Thresholds);
    public IReadOnlyList<int> SeedValues => Numbers("--seeds", Seeds).Select(s => (int)s).ToArray();
    public IReadOnlyList<string> ObjectiveNames => Words(Objectives);
    public IReadOnlyList<double> KlCoefficientValues => Numbers("--kl-coefs", KlCoefficients);
    public IReadOnlyList<double> PenaltyValues => Numbers("--penalties", Penalties);
    public IReadOnlyList<double> KappaValues => Numbers("--kappas", Kappas);
    public IReadOnlyList<double> LambdaLearningRateValues => Numbers("--lambda-lrs", LambdaLearningRates);

    /// <summary>Samples scored by the teacher over one run: the same for every RL objective.</summary>
    public long TeacherScoredSamplesPerRun => (long)Steps * BatchSize * GroupSize;

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Require(bool condition, string flag, string rule, object? value)
        {
            if (!condition) problems.Add($"{flag} must be {rule} (got {value ?? "nothing"}).");
        }
        void RequireList(string flag, Func<object> read, Func<bool> rule, string description, object raw)
        {
            try { _ = read(); Require(rule(), flag, description, raw); }
            catch (OptionsValidationProblem problem) { problems.Add(problem.Message); }
        }

        RequireList("--thresholds", () => ThresholdValues, () => ThresholdValues.Count > 0 && ThresholdValues.All(d => d > 0 && double.IsFinite(d)),
            "a comma-separated list of positive numbers", Thresholds);
        RequireList("--seeds", () => SeedValues, () => SeedValues.Count > 0 && SeedValues.Distinct().Count() == SeedValues.Count
            && Numbers("--seeds", Seeds).All(s => s == Math.Floor(s)),
            "a comma-separated list of distinct integers", Seeds);
        Require(Words(Objectives).Count > 0 && Words(Objectives).All(KnownObjectives.Contains), "--objectives",
            $"a comma-separated list of {string.Join(", ", KnownObjectives)}", Objectives);
        RequireList("--kl-coefs", () => KlCoefficientValues, () => KlCoefficientValues.Count > 0 && KlCoefficientValues.All(v => v >= 0),
            "a comma-separated list of numbers >= 0", KlCoefficients);
        RequireList("--penalties", () => PenaltyValues, () => PenaltyValues.All(v => v >= 0), "a comma-separated list of numbers >= 0", Penalties);
        RequireList("--kappas", () => KappaValues, () => KappaValues.All(v => v >= 0), "a comma-separated list of numbers >= 0", Kappas);
        RequireList("--lambda-lrs", () => LambdaLearningRateValues, () => LambdaLearningRateValues.All(v => v > 0),
            "a comma-separated list of numbers > 0", LambdaLearningRates);
        Require(!string.IsNullOrWhiteSpace(Output), "--out", "a directory path", Output);
        Require(!string.IsNullOrWhiteSpace(Models), "--models", "a directory path", Models);
        Require(Steps >= 1, "--steps", "at least 1", Steps);
        Require(BatchSize >= 1, "--batch-size", "at least 1", BatchSize);
        Require(GroupSize >= 2, "--group-size", "at least 2", GroupSize);
        Require(LearningRate > 0 && double.IsFinite(LearningRate), "--lr", "a finite number > 0", LearningRate);
        Require(WarmupSteps >= 0, "--warmup-steps", "at least 0", WarmupSteps);
        Require(Temperature > 0 && double.IsFinite(Temperature), "--temperature", "a finite number > 0", Temperature);
        Require(MaxNewTokens >= 1, "--max-new-tokens", "at least 1", MaxNewTokens);
        Require(CheckpointEvery >= 1, "--checkpoint-every", "at least 1", CheckpointEvery);
        Require(EvaluationProblems >= 1, "--eval-problems", "at least 1", EvaluationProblems);
        Require(EvaluationSamples >= 1, "--eval-samples", "at least 1", EvaluationSamples);
        return problems;
    }

    private static IReadOnlyList<string> Words(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w => w.ToLowerInvariant()).ToArray();

    private static IReadOnlyList<double> Numbers(string flag, string? list) => Words(list).Select(word =>
        double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new OptionsValidationProblem($"{flag}: '{word}' is not a number.")).ToArray();
}
