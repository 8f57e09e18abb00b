namespace Distill.Core.Divergence;

/// <summary>The constraint satisfaction rate at one threshold d.</summary>
public readonly record struct ThresholdSatisfaction(double Threshold, double Rate);

/// <summary>Constraint satisfaction rate (CSR): the share of samples whose sequence cost satisfies C ≤ d.</summary>
public static class ConstraintSatisfactionRate
{
    /// <summary>Share of <paramref name="sequenceCosts"/> that are ≤ <paramref name="threshold"/>; no samples gives 0.</summary>
    public static double At(IReadOnlyCollection<double> sequenceCosts, double threshold) =>
        sequenceCosts.Count == 0 ? 0.0 : (double)sequenceCosts.Count(cost => cost <= threshold) / sequenceCosts.Count;

    /// <summary>The CSR at each of <paramref name="thresholds"/>, in the order given.</summary>
    public static IReadOnlyList<ThresholdSatisfaction> Sweep(IReadOnlyCollection<double> sequenceCosts, IEnumerable<double> thresholds) =>
        thresholds.Select(threshold => new ThresholdSatisfaction(threshold, At(sequenceCosts, threshold))).ToArray();
}
