using Distill.Core.Divergence;

namespace Distill.Evaluator.Evaluation;

/// <summary>Turns per-problem outcomes into <see cref="EvaluationMetrics"/>; the cost statistics and CSR come from the shared divergence code.</summary>
public static class MetricsAggregation
{
    /// <summary>Bootstrap resamples of the CSR interval; its seed is fixed, so an evaluation's interval repeats exactly.</summary>
    public const int BootstrapResamples = 2000;

    /// <summary>
    /// Sampled pass@1 is the unbiased estimator c/n per problem (c of its n samples correct), averaged over problems.
    /// The CSR at d is the share of samples within budget under the run's scope; the sweep is over the sequence cost C.
    /// </summary>
    public static EvaluationMetrics Summarize(
        IReadOnlyList<ProblemOutcome> problems, double threshold, IEnumerable<double> sweepThresholds, double? teacherAccuracy)
    {
        if (problems.Count == 0)
            throw new ArgumentException("no problems were evaluated.", nameof(problems));
        var samples = problems.SelectMany(problem => problem.Samples).ToArray();
        var costs = samples.Select(sample => sample.SequenceCost).ToArray();
        var sampledTokens = samples.Sum(sample => (long)sample.ResponseTokens);
        var greedyTokens = problems.Sum(problem => (long)problem.GreedyResponseTokens);
        var (low, high) = SatisfactionInterval(problems);

        return new EvaluationMetrics(
            GreedyAccuracy: problems.Count(problem => problem.GreedyIsCorrect) / (double)problems.Count,
            SampledPassAt1: problems.Average(problem =>
                problem.Samples.Count == 0 ? 0.0 : problem.Samples.Count(sample => sample.IsCorrect) / (double)problem.Samples.Count),
            TeacherAccuracy: teacherAccuracy,
            CostMean: CostStatistics.Mean(costs),
            CostP50: CostStatistics.Percentile(costs, 0.5),
            CostP90: CostStatistics.P90(costs),
            CostMax: costs.Length == 0 ? 0.0 : costs.Max(),
            SatisfactionRate: SatisfactionRate(problems),
            SatisfactionSweep: ConstraintSatisfactionRate.Sweep(costs, sweepThresholds.Append(threshold).Distinct().Order()),
            MeanResponseTokens: samples.Length == 0 ? 0.0 : sampledTokens / (double)samples.Length,
            GeneratedTokens: sampledTokens + greedyTokens,
            SatisfactionRateLow: low,
            SatisfactionRateHigh: high);
    }

    /// <summary>
    /// The metrics of <paramref name="blindSpot"/>'s family of <paramref name="problems"/> and of the rest
    /// (<paramref name="outcomes"/> in the same order); a part with no problems is left out.
    /// </summary>
    public static IReadOnlyList<SubsetMetrics> ByBlindSpot(IReadOnlyList<Core.Tasks.MathProblem> problems, IReadOnlyList<ProblemOutcome> outcomes,
        Core.Tasks.TeacherBlindSpot blindSpot, double threshold, IEnumerable<double> sweepThresholds)
    {
        if (problems.Count != outcomes.Count)
            throw new ArgumentException($"{problems.Count} problems but {outcomes.Count} outcomes.", nameof(outcomes));
        var inFamily = problems.Select(blindSpot.Covers).ToArray();
        var sweep = sweepThresholds.ToArray();
        return new[] { ($"blind spot ('{blindSpot.Verb}')", true), ("rest", false) }
            .Select(part => (part.Item1, Outcomes: outcomes.Where((_, i) => inFamily[i] == part.Item2).ToArray()))
            .Where(part => part.Outcomes.Length > 0)
            .Select(part => new SubsetMetrics(part.Item1, part.Outcomes.Length, Summarize(part.Outcomes, threshold, sweep, teacherAccuracy: null)))
            .ToArray();
    }

    /// <summary>Share of all samples within budget; no samples gives 0.</summary>
    public static double SatisfactionRate(IEnumerable<ProblemOutcome> problems)
    {
        int within = 0, total = 0;
        foreach (var problem in problems)
        {
            within += problem.Samples.Count(sample => sample.WithinBudget);
            total += problem.Samples.Count;
        }
        return total == 0 ? 0.0 : within / (double)total;
    }

    /// <summary>
    /// The 2.5th and 97.5th percentiles of the CSR over problems resampled with replacement: a problem's samples share
    /// its prompt, so they are resampled together, not as independent draws.
    /// </summary>
    public static (double Low, double High) SatisfactionInterval(IReadOnlyList<ProblemOutcome> problems, int resamples = BootstrapResamples, int seed = 17) =>
        RatioInterval(problems.Select(problem => problem.Samples.Count(sample => sample.WithinBudget)).ToArray(),
            problems.Select(problem => problem.Samples.Count).ToArray(), resamples, seed);

    /// <summary>
    /// The change in CSR at <paramref name="threshold"/> from <paramref name="before"/> to <paramref name="after"/>, two
    /// evaluations of the same problems (sequence costs, problem-major, <paramref name="samplesPerProblem"/> each), with
    /// the 2.5th and 97.5th percentiles of the change over problems resampled with replacement, the same problems for
    /// both. Paired so: how hard a problem is moves both evaluations alike and cancels, so a change can be told from the
    /// noise of a small held-out set more surely than by setting the two CSRs' own intervals side by side.
    /// </summary>
    public static SatisfactionChange SatisfactionChangeOf(IReadOnlyList<double> before, IReadOnlyList<double> after, int samplesPerProblem,
        double threshold, int resamples = BootstrapResamples, int seed = 17)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerProblem, 1);
        if (before.Count != after.Count || before.Count == 0 || before.Count % samplesPerProblem != 0)
            throw new ArgumentException(
                $"paired evaluations need the same samples of the same problems: {before.Count} and {after.Count} costs, {samplesPerProblem} per problem.",
                nameof(after));
        var problems = before.Count / samplesPerProblem;
        int Within(IReadOnlyList<double> costs, int problem) =>
            Enumerable.Range(problem * samplesPerProblem, samplesPerProblem).Count(i => costs[i] <= threshold);
        var gained = Enumerable.Range(0, problems).Select(problem => Within(after, problem) - Within(before, problem)).ToArray();
        var (low, high) = RatioInterval(gained, Enumerable.Repeat(samplesPerProblem, problems).ToArray(), resamples, seed);
        return new SatisfactionChange(ConstraintSatisfactionRate.At(after.ToArray(), threshold) - ConstraintSatisfactionRate.At(before.ToArray(), threshold),
            low, high);
    }

    // Percentile bootstrap of Σ numerator / Σ denominator over items resampled with replacement; a fixed seed makes it repeat.
    private static (double Low, double High) RatioInterval(int[] numerators, int[] denominators, int resamples, int seed)
    {
        var random = new Random(seed);
        var ratios = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            long numerator = 0, denominator = 0;
            for (var i = 0; i < numerators.Length; i++)
            {
                var pick = random.Next(numerators.Length);
                numerator += numerators[pick];
                denominator += denominators[pick];
            }
            ratios[r] = denominator == 0 ? 0.0 : numerator / (double)denominator;
        }
        return (CostStatistics.Percentile(ratios, 0.025), CostStatistics.Percentile(ratios, 0.975));
    }
}

/// <summary>A change in CSR at d between two evaluations of the same problems, as a share, with its 95 % interval.</summary>
public readonly record struct SatisfactionChange(double Change, double Low, double High);
