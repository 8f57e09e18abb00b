using Distill.Core.Divergence;

namespace Distill.Evaluator.Evaluation;

/// <summary>Turns per-problem outcomes into <see cref="EvaluationMetrics"/>; the cost statistics and CSR come from the shared divergence code.</summary>
public static class MetricsAggregation
{
    /// <summary>
    /// Sampled pass@1 is the unbiased estimator c/n per problem (c of its n samples correct), averaged over problems.
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

        return new EvaluationMetrics(
            GreedyAccuracy: problems.Count(problem => problem.GreedyIsCorrect) / (double)problems.Count,
            SampledPassAt1: problems.Average(problem =>
                problem.Samples.Count == 0 ? 0.0 : problem.Samples.Count(sample => sample.IsCorrect) / (double)problem.Samples.Count),
            TeacherAccuracy: teacherAccuracy,
            CostMean: CostStatistics.Mean(costs),
            CostP50: CostStatistics.Percentile(costs, 0.5),
            CostP90: CostStatistics.P90(costs),
            CostMax: costs.Length == 0 ? 0.0 : costs.Max(),
            SatisfactionRate: ConstraintSatisfactionRate.At(costs, threshold),
            SatisfactionSweep: ConstraintSatisfactionRate.Sweep(costs, sweepThresholds.Append(threshold).Distinct().Order()),
            MeanResponseTokens: samples.Length == 0 ? 0.0 : sampledTokens / (double)samples.Length,
            GeneratedTokens: sampledTokens + greedyTokens);
    }
}
