// Temporary: the shared divergence code (Distill.Core/Divergence) is being written on the objectives branch; these are
// its signatures, so the evaluator builds until it lands in main. Deleted in the merge that brings the real ones.
namespace Distill.Core.Divergence;

public enum CostEstimator { K1, K3, TopKExact }

public enum CostAggregation { Sum, Mean }

public readonly record struct ThresholdSatisfaction(double Threshold, double Rate);

public static class ConstraintSatisfactionRate
{
    public static double At(IReadOnlyCollection<double> sequenceCosts, double threshold) =>
        sequenceCosts.Count == 0 ? 0.0 : (double)sequenceCosts.Count(cost => cost <= threshold) / sequenceCosts.Count;

    public static IReadOnlyList<ThresholdSatisfaction> Sweep(IReadOnlyCollection<double> sequenceCosts, IEnumerable<double> thresholds) =>
        thresholds.Select(threshold => new ThresholdSatisfaction(threshold, At(sequenceCosts, threshold))).ToArray();
}

public static class CostStatistics
{
    public static double Mean(IReadOnlyCollection<double> values) => values.Count == 0 ? 0.0 : values.Average();

    public static double P90(IReadOnlyCollection<double> values) => Percentile(values, 0.9);

    public static double Percentile(IReadOnlyCollection<double> values, double quantile)
    {
        if (values.Count == 0) return 0.0;
        var sorted = values.Order().ToArray();
        var rank = quantile * (sorted.Length - 1);
        var below = (int)Math.Floor(rank);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
    }
}
