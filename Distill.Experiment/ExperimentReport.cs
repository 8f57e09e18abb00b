using System.Globalization;
using System.Text;
using Distill.Core.Configuration;
using Distill.Core.Divergence;
using Distill.Core.Runs;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Reports;

namespace Distill.Experiment;

/// <summary>
/// One run's held-out numbers at one threshold d. <paramref name="TrainedAt"/> is set when a run that trains against a
/// threshold is measured at another one (its d sweep); null when d is its own, or when its method has none.
/// </summary>
public sealed record RunOutcome(string Run, string Method, double Threshold, int Seed, RunGroup Group, string? Variant,
    double GreedyAccuracy, double PassAt1, double SatisfactionRate, double CostMean, double ResponseTokens,
    double TrainingSeconds, double? FinalLambda, double? TrainedAt = null);

/// <summary>
/// A run's checkpoint on the held-out set at one d (with <c>--eval-every-checkpoint</c>; its last step is the final
/// checkpoint's evaluation): when the run rose or fell. <paramref name="Error"/> is set, and the numbers are NaN, when
/// the checkpoint could not be evaluated.
/// </summary>
public sealed record CheckpointOutcome(string Run, string Method, int Seed, int Step, double Threshold, double GreedyAccuracy, double PassAt1,
    double SatisfactionRate, double CostMean, string? Error = null);

/// <summary>Mean and sample standard deviation over seeds.</summary>
public sealed record Spread(double Mean, double StandardDeviation, int Count)
{
    public static Spread Of(IEnumerable<double> values)
    {
        var all = values.ToArray();
        if (all.Length == 0) return new Spread(double.NaN, double.NaN, 0);
        var mean = all.Average();
        var deviation = all.Length < 2 ? 0 : Math.Sqrt(all.Sum(v => (v - mean) * (v - mean)) / (all.Length - 1));
        return new Spread(mean, deviation, all.Length);
    }
}

/// <summary>One row of the main table: a method at one d, over seeds.</summary>
public sealed record MethodSummary(string Method, double Threshold, Spread GreedyAccuracy, Spread PassAt1, Spread SatisfactionRate,
    Spread CostMean, Spread ResponseTokens, Spread TrainingSeconds);

/// <summary>
/// Where a method's violations sat on its training batches at one d, over seeds: the violation rate; of the violating
/// samples, the share whose whole group violated (there the group mean cancels a penalty that is the same for every
/// violation); the share of groups whose samples split across d; the share of groups with equal task rewards. Each run's
/// numbers are over all its steps, the whole-group share pooled over its violations.
/// </summary>
public sealed record ViolationPlacement(string Method, double Threshold, Spread ViolationRate, Spread WholeGroupViolationShare,
    Spread SplitViolationGroupShare, Spread EqualRewardGroupShare)
{
    /// <summary>Null when no run logged it (sft, which samples nothing, and runs trained before the trainer recorded it).</summary>
    public static ViolationPlacement? Of(string method, double threshold, IEnumerable<IReadOnlyList<TrainingStepMetrics>> runs)
    {
        var logged = runs.Where(steps => steps.Count > 0 && steps.All(m => m.WholeGroupViolationShare is not null && m.SplitViolationGroupShare is not null))
            .ToArray();
        if (logged.Length == 0) return null;
        static double WholeGroupShare(IReadOnlyList<TrainingStepMetrics> steps)
        {
            // Every step has the same batch, so a step's violation rate weighs its share by its number of violations.
            var violations = steps.Sum(m => m.ViolationRate);
            return violations == 0 ? 0 : steps.Sum(m => m.ViolationRate * m.WholeGroupViolationShare!.Value) / violations;
        }
        return new ViolationPlacement(method, threshold, Spread.Of(logged.Select(steps => steps.Average(m => m.ViolationRate))),
            Spread.Of(logged.Select(WholeGroupShare)), Spread.Of(logged.Select(steps => steps.Average(m => m.SplitViolationGroupShare!.Value))),
            Spread.Of(logged.Select(steps => steps.Average(m => m.EqualRewardGroupShare))));
    }
}

/// <summary>
/// The experiment's results: every run's outcome at every threshold (a d-free method's one run per seed is compared with
/// each d), the per-method summaries, and the sensitivity rows; written as results.json and results.md.
/// </summary>
public sealed class ExperimentReport
{
    public const string JsonFileName = "results.json", MarkdownFileName = "results.md",
        ParetoFileName = "pareto.png", CurvesFileName = "training-curves.png";

    public required ExperimentOptions Options { get; init; }
    public required IReadOnlyList<RunOutcome> Outcomes { get; init; }
    public required IReadOnlyList<MethodSummary> Summaries { get; init; }
    public required IReadOnlyList<RunOutcome> Start { get; init; }
    public required double? TeacherAccuracy { get; init; }
    public required IReadOnlyList<string> Failures { get; init; }
    public required string CommandLine { get; init; }
    public required string Machine { get; init; }
    public required double WallSeconds { get; init; }

    /// <summary>
    /// Every main run that trains against a threshold, measured at each other d of the experiment: with several
    /// thresholds, a method's runs at each d are its d sweep, and these put them on the same axes as the d-free methods.
    /// </summary>
    public IReadOnlyList<RunOutcome> OtherThresholds { get; init; } = [];

    /// <summary>Every main method's difference from <see cref="Reference"/> at each d, paired by seed (where both have two or more seeds).</summary>
    public IReadOnlyList<PairedDifference> Differences { get; init; } = [];

    /// <summary>Where each main method's violations sat on its training batches, at the d it trained at.</summary>
    public IReadOnlyList<ViolationPlacement> ViolationPlacements { get; init; } = [];

    /// <summary>Every checkpoint of every run on the held-out set, in step order (empty without <c>--eval-every-checkpoint</c>).</summary>
    public IReadOnlyList<CheckpointOutcome> Checkpoints { get; init; } = [];

    /// <summary>The method the others are compared with, seed by seed.</summary>
    public const string Reference = "cmdp";

    /// <summary>The metrics compared seed by seed, as named in <see cref="PairedDifference.Metric"/>.</summary>
    public static readonly IReadOnlyList<(string Name, Func<RunOutcome, double> Value)> ComparedMetrics =
        [("greedy accuracy", o => o.GreedyAccuracy), ("CSR at d", o => o.SatisfactionRate), ("mean KL", o => o.CostMean)];

    /// <summary>Training time summed over the runs, whichever invocation trained them.</summary>
    public double TotalTrainingSeconds { get; init; }
    public DateTimeOffset FinishedAt { get; init; } = DateTimeOffset.UtcNow;

    public static ExperimentReport Create(ExperimentOptions options, IReadOnlyList<RunResult> results, CheckpointEvaluation? start,
        string commandLine, string machine, double wallSeconds)
    {
        // A d-free main run is compared with each d; every other run is measured at its own.
        IReadOnlyList<double> ThresholdsOf(RunResult result) =>
            result.Run.Group == RunGroup.Main && !result.Run.UsesThreshold ? options.ThresholdValues : [result.Run.Threshold];

        var outcomes = new List<RunOutcome>();
        foreach (var result in results.Where(r => r.Evaluation is not null))
        {
            foreach (var d in ThresholdsOf(result))
                outcomes.Add(Outcome(result.Run.Name, result.Run.Method, d, result.Run.Seed, result.Run.Group, result.Run.Variant,
                    result.Evaluation!, result.TrainingSeconds, result.Metrics.LastOrDefault()?.Lambda));
        }

        var otherThresholds = (from result in results
                               where result.Evaluation is not null && result.Run.Group == RunGroup.Main && result.Run.UsesThreshold
                               from d in options.ThresholdValues
                               where d != result.Run.Threshold
                               select Outcome(result.Run.Name, result.Run.Method, d, result.Run.Seed, result.Run.Group, result.Run.Variant,
                                   result.Evaluation!, result.TrainingSeconds, result.Metrics.LastOrDefault()?.Lambda) with { TrainedAt = result.Run.Threshold })
            .ToArray();

        var methods = outcomes.Where(o => o.Group == RunGroup.Main).Select(o => o.Method).Distinct().ToArray();
        var summaries = options.ThresholdValues.SelectMany(d => methods.Select(method =>
        {
            var runs = outcomes.Where(o => o.Group == RunGroup.Main && o.Method == method && o.Threshold == d).ToArray();
            return new MethodSummary(method, d, Spread.Of(runs.Select(r => r.GreedyAccuracy)), Spread.Of(runs.Select(r => r.PassAt1)),
                Spread.Of(runs.Select(r => r.SatisfactionRate)), Spread.Of(runs.Select(r => r.CostMean)),
                Spread.Of(runs.Select(r => r.ResponseTokens)), Spread.Of(runs.Select(r => r.TrainingSeconds)));
        }).Where(s => s.GreedyAccuracy.Count > 0)).ToArray();

        var differences = options.ThresholdValues.SelectMany(d => methods.Where(m => m != Reference).SelectMany(method =>
        {
            var main = outcomes.Where(o => o.Group == RunGroup.Main && o.Threshold == d).ToArray();
            var pairs = main.Where(o => o.Method == method)
                .Join(main.Where(o => o.Method == Reference), o => o.Seed, o => o.Seed, (m, r) => (Method: m, Reference: r)).ToArray();
            return pairs.Length < 2 ? [] : ComparedMetrics.Select(metric => PairedDifference.Of(method, Reference, d, metric.Name,
                pairs.Select(p => (metric.Value(p.Method), metric.Value(p.Reference))).ToArray()));
        })).ToArray();

        var placements = results.Where(r => r.Run.Group == RunGroup.Main && r.Error is null)
            .GroupBy(r => (r.Run.Threshold, r.Run.Method))
            .Select(runs => ViolationPlacement.Of(runs.Key.Method, runs.Key.Threshold, runs.Select(r => r.Metrics)))
            .OfType<ViolationPlacement>().ToArray();

        // Each run's earlier checkpoints, then its final one (its evaluation, or the reason it has none).
        var checkpoints = (from result in results
                           where result.EarlierCheckpoints is not null
                           from d in ThresholdsOf(result)
                           from stored in result.EarlierCheckpoints!.Select(s => (s.Step, s.Evaluation, Error: s.Failure?.Error))
                               .Append((Step: options.Steps, result.Evaluation, result.Error))
                           select stored.Evaluation is { } evaluation
                               ? new CheckpointOutcome(result.Run.Name, result.Run.Method, result.Run.Seed, stored.Step, d,
                                   evaluation.Metrics.GreedyAccuracy, evaluation.Metrics.SampledPassAt1,
                                   ConstraintSatisfactionRate.At(evaluation.SequenceCosts.ToArray(), d), evaluation.Metrics.CostMean)
                               : new CheckpointOutcome(result.Run.Name, result.Run.Method, result.Run.Seed, stored.Step, d,
                                   double.NaN, double.NaN, double.NaN, double.NaN, stored.Error ?? "not evaluated"))
            .ToArray();

        var startOutcomes = start is null ? [] : options.ThresholdValues
            .Select(d => Outcome("start", "start (warm student)", d, 0, RunGroup.Main, null, start, 0, null)).ToArray();
        var failures = results.Where(r => r.Error is not null).Select(r => $"{r.Run.Name}: {r.Error}").ToArray();
        return new ExperimentReport
        {
            Options = options, Outcomes = outcomes, Summaries = summaries, Differences = differences, Start = startOutcomes,
            OtherThresholds = otherThresholds, ViolationPlacements = placements, Checkpoints = checkpoints,
            TeacherAccuracy = start?.Metrics.TeacherAccuracy, Failures = failures, CommandLine = commandLine, Machine = machine,
            WallSeconds = wallSeconds,
            TotalTrainingSeconds = results.Sum(r => r.TrainingSeconds),
        };
    }

    private static RunOutcome Outcome(string run, string method, double d, int seed, RunGroup group, string? variant,
        CheckpointEvaluation evaluation, double trainingSeconds, double? lambda) =>
        new(run, method, d, seed, group, variant, evaluation.Metrics.GreedyAccuracy, evaluation.Metrics.SampledPassAt1,
            ConstraintSatisfactionRate.At(evaluation.SequenceCosts.ToArray(), d), evaluation.Metrics.CostMean,
            evaluation.Metrics.MeanResponseTokens, trainingSeconds, lambda);

    public void Write(string directory, IReadOnlyList<RunResult> results)
    {
        Directory.CreateDirectory(directory);
        RunDirectory.WriteJsonAtomically(Path.Combine(directory, JsonFileName), this);
        ExperimentPlots.SavePareto(Path.Combine(directory, ParetoFileName), this);
        ExperimentPlots.SaveTrainingCurves(Path.Combine(directory, CurvesFileName), Options, results);
        var markdown = Path.Combine(directory, MarkdownFileName);
        Core.Safetensors.AtomicWrite.WriteText(markdown, ToMarkdown());
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        var o = Options;
        text.AppendLine("# Experiment results (generated)").AppendLine();
        text.AppendLine(Invariant($"- Command: `{CommandLine}`"));
        text.AppendLine($"- Machine: {Machine}");
        // A rerun reads finished runs back instead of training them, so its wall time is not the experiment's.
        text.AppendLine(Invariant($"- Finished {FinishedAt:yyyy-MM-dd HH:mm} UTC; this invocation took {WallSeconds / 60:0.0} min (runs finished by an earlier one are read back); training time summed over all runs {TotalTrainingSeconds / 60:0.0} min."));
        text.AppendLine(Invariant($"- Every run: {o.Steps} steps of {o.BatchSize} prompts × {o.GroupSize} samples (temperature {o.Temperature}), AdamW lr {LearningRates(o)} with {o.WarmupSteps} warm-up steps; per-token training costs by `{KebabCaseEnum.Spelling(o.CostEstimator)}`, advantages by `{KebabCaseEnum.Spelling(o.Advantage)}`; {o.TeacherScoredSamplesPerRun} teacher-scored samples per run (sft: none; {o.Steps * o.BatchSize} reference solutions)."));
        text.AppendLine(Invariant($"- Held-out set: {o.EvaluationProblems} generated {o.EvaluationSplit}-split problems; greedy accuracy, and {o.EvaluationSamples} samples per problem at temperature {o.Temperature} for pass@1, the sequence KL (summed; with the lowest-variance estimator the teacher allows, `exact` for the default teacher, as each run's `summary.md` names) and the CSR at each d."));
        if (TeacherAccuracy is { } teacher) text.AppendLine(Invariant($"- Teacher greedy accuracy on the same set: {Percent(teacher)}."));
        text.AppendLine(Invariant($"- Seeds {o.Seeds}; mean ± standard deviation over seeds (n = runs per cell)."));
        text.AppendLine();

        foreach (var d in o.ThresholdValues)
        {
            text.AppendLine(Invariant($"## d = {d}")).AppendLine();
            text.AppendLine("| method | n | greedy accuracy | pass@1 | CSR at d | mean KL | response tokens | training time (s) |");
            text.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var start in Start.Where(s => s.Threshold == d))
                text.AppendLine(Invariant($"| {start.Method} | 1 | {Percent(start.GreedyAccuracy)} | {Percent(start.PassAt1)} | {Percent(start.SatisfactionRate)} | {start.CostMean:0.00} | {start.ResponseTokens:0.0} | – |"));
            foreach (var row in Summaries.Where(s => s.Threshold == d))
                text.AppendLine(Invariant($"| {row.Method} | {row.GreedyAccuracy.Count} | {Percent(row.GreedyAccuracy)} | {Percent(row.PassAt1)} | {Percent(row.SatisfactionRate)} | {Plain(row.CostMean)} | {Plain(row.ResponseTokens, "0.0")} | {Plain(row.TrainingSeconds, "0")} |"));
            text.AppendLine();
        }

        if (Differences.Count > 0)
        {
            text.AppendLine($"## Paired differences from {Reference}").AppendLine();
            text.AppendLine($"Each method minus {Reference}, seed by seed: the mean difference and its 95 % t-interval over the seeds both ran " +
                            "(points of accuracy and CSR, nats of KL). An interval that excludes 0 is a difference these seeds establish.");
            text.AppendLine();
            text.AppendLine("| d | method | seeds | " + string.Join(" | ", ComparedMetrics.Select(m => "Δ " + m.Name)) + " |");
            text.AppendLine("| --- | --- | --- | " + string.Join(" | ", ComparedMetrics.Select(_ => "---")) + " |");
            foreach (var row in Differences.GroupBy(x => (x.Threshold, x.Method)))
            {
                var cells = ComparedMetrics.Select(m => row.Single(x => x.Metric == m.Name))
                    .Select(x => x.Metric == "mean KL"
                        ? $"{Signed(x.Mean, 2)} ({Signed(x.Low, 2, plus: false)} to {Signed(x.High, 2, plus: false)})"
                        : $"{Signed(100 * x.Mean, 1)} ({Signed(100 * x.Low, 1, plus: false)} to {Signed(100 * x.High, 1, plus: false)})");
                text.AppendLine(Invariant($"| {row.Key.Threshold} | {row.Key.Method} | {row.First().Seeds} | {string.Join(" | ", cells)} |"));
            }
            text.AppendLine();
        }

        if (ViolationPlacements.Count > 0)
        {
            text.AppendLine("## Where the violations sat on training batches").AppendLine();
            text.AppendLine(Invariant($"Training batches ({o.BatchSize} prompts × {o.GroupSize} samples, the training costs), each run over all its steps. ") +
                            "Of the violating samples, the share whose whole group violated: there the group mean cancels a penalty that is the " +
                            "same for every violation, and only the groups split across d carry its signal.");
            text.AppendLine();
            text.AppendLine("| d | method | n | violation rate | of the violations: whole group violated | groups split across d | groups with equal task rewards |");
            text.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
            foreach (var row in ViolationPlacements.OrderBy(p => p.Threshold))
                text.AppendLine(Invariant($"| {row.Threshold} | {row.Method} | {row.ViolationRate.Count} | {Percent(row.ViolationRate)} | {Percent(row.WholeGroupViolationShare)} | {Percent(row.SplitViolationGroupShare)} | {Percent(row.EqualRewardGroupShare)} |"));
            text.AppendLine();
        }

        if (OtherThresholds.Count > 0)
        {
            text.AppendLine("## Trained at one d, measured at another").AppendLine();
            text.AppendLine("Each method that trains against a threshold, with its runs at one d measured at the others, from the same " +
                            "held-out samples: its d sweep, on the same axes as the tables above (no run is trained again).");
            text.AppendLine();
            text.AppendLine("| d | method | trained at d | n | greedy accuracy | CSR at d | mean KL |");
            text.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
            foreach (var cell in OtherThresholds.GroupBy(r => (r.Threshold, r.Method, TrainedAt: r.TrainedAt!.Value)).OrderBy(c => c.Key.Threshold))
                text.AppendLine(Invariant($"| {cell.Key.Threshold} | {cell.Key.Method} | {cell.Key.TrainedAt} | {cell.Count()} | {Percent(Spread.Of(cell.Select(r => r.GreedyAccuracy)))} | {Percent(Spread.Of(cell.Select(r => r.SatisfactionRate)))} | {Plain(Spread.Of(cell.Select(r => r.CostMean)))} |"));
            text.AppendLine();
        }

        if (Checkpoints.Count > 0)
        {
            text.AppendLine("## Every checkpoint on the held-out set").AppendLine();
            text.AppendLine("Each run's checkpoints (`--eval-every-checkpoint`) on the same held-out set as its final one, whose row is the " +
                            "last of each run: where a run rose or fell on the way, which the final checkpoint alone does not tell.");
            text.AppendLine();
            text.AppendLine("| run | d | step | greedy accuracy | pass@1 | CSR at d | mean KL |");
            text.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
            foreach (var row in Checkpoints)
                text.AppendLine(row.Error is { } error
                    ? Invariant($"| {row.Run} | {row.Threshold} | {row.Step} | not evaluated: {error} | | | |")
                    : Invariant($"| {row.Run} | {row.Threshold} | {row.Step} | {Percent(row.GreedyAccuracy)} | {Percent(row.PassAt1)} | {Percent(row.SatisfactionRate)} | {row.CostMean:0.00} |"));
            text.AppendLine();
        }

        var sensitivity = Outcomes.Where(r => r.Group == RunGroup.Sensitivity).ToArray();
        if (sensitivity.Length > 0)
        {
            var d = ExperimentPlan.MiddleThreshold(o);
            var seed = o.SeedValues[0];
            text.AppendLine(Invariant($"## Sensitivity (d = {d}, seed {seed})")).AppendLine();
            text.AppendLine("| method | setting | greedy accuracy | pass@1 | CSR at d | mean KL | final λ |");
            text.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
            var references = Outcomes.Where(r => r.Group == RunGroup.Main && r.Seed == seed && r.Threshold == d && r.Method is "cmdp" or "lagrangian");
            foreach (var row in references.Concat(sensitivity).OrderBy(r => r.Method).ThenBy(r => r.Variant ?? ""))
            {
                var setting = row.Variant ?? (row.Method == "cmdp"
                    ? Invariant($"n{ExperimentPlan.DefaultPenalty}, kappa{ExperimentPlan.DefaultKappa} (default)")
                    : Invariant($"lambdalr{ExperimentPlan.DefaultLambdaLearningRate} (default)"));
                text.AppendLine(Invariant($"| {row.Method} | {setting} | {Percent(row.GreedyAccuracy)} | {Percent(row.PassAt1)} | {Percent(row.SatisfactionRate)} | {row.CostMean:0.00} | {(row.FinalLambda is { } l ? l.ToString("0.###", CultureInfo.InvariantCulture) : "–")} |"));
            }
            text.AppendLine();
        }

        text.AppendLine($"![Pareto]({ParetoFileName})").AppendLine();
        text.AppendLine($"![Training curves]({CurvesFileName})").AppendLine();
        text.AppendLine("## Every run").AppendLine();
        text.AppendLine("| run | d | greedy accuracy | pass@1 | CSR at d | mean KL | response tokens | training time (s) | final λ |");
        text.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var row in Outcomes)
            text.AppendLine(Invariant($"| {row.Run} | {row.Threshold} | {Percent(row.GreedyAccuracy)} | {Percent(row.PassAt1)} | {Percent(row.SatisfactionRate)} | {row.CostMean:0.00} | {row.ResponseTokens:0.0} | {row.TrainingSeconds:0} | {(row.FinalLambda is { } l ? l.ToString("0.###", CultureInfo.InvariantCulture) : "–")} |"));
        if (Failures.Count > 0)
        {
            text.AppendLine().AppendLine("## Runs that failed").AppendLine();
            foreach (var failure in Failures) text.AppendLine($"- {failure}");
        }
        return text.ToString();
    }

    /// <summary>The rates the runs trained at: the sweep's, or --lr with each --method-lrs override named.</summary>
    private static string LearningRates(ExperimentOptions o) =>
        o.LearningRateSweepValues.Count > 0
            ? "swept over " + string.Join(", ", o.LearningRateSweepValues.Select(ExperimentPlan.Number)) + " (one row per rate)"
            : string.Join(", ", new[] { ExperimentPlan.Number(o.LearningRate) }
                .Concat(o.MethodLearningRateValues.Select(p => $"{p.Key} {ExperimentPlan.Number(p.Value)}")));

    private static string Invariant(FormattableString value) => Format.Invariant(value);

    private static string Signed(double value, int decimals, bool plus = true) => Format.Signed(value, decimals, plus);

    private static string Percent(double share) => Format.Percent(share);

    private static string Percent(Spread spread) => Invariant($"{100 * spread.Mean:0.0} ± {100 * spread.StandardDeviation:0.0} %");

    private static string Plain(Spread spread, string format = "0.00") =>
        spread.Mean.ToString(format, CultureInfo.InvariantCulture) + " ± " + spread.StandardDeviation.ToString(format, CultureInfo.InvariantCulture);
}
