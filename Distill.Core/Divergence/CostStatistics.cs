namespace Distill.Core.Divergence;

/// <summary>Summary statistics of sequence costs that every step and every evaluation logs.</summary>
public static class CostStatistics
{
    /// <summary>Arithmetic mean; no values gives 0.</summary>
    public static double Mean(IReadOnlyCollection<double> values) => values.Count == 0 ? 0.0 : values.Average();

    /// <summary>90th percentile; see <see cref="Percentile"/>.</summary>
    public static double P90(IReadOnlyCollection<double> values) => Percentile(values, 0.9);

    /// <summary>
    /// Percentile with linear interpolation between closest ranks (numpy's default), so logged values compare directly
    /// with analysis notebooks: rank q·(n − 1) in the sorted values. No values gives 0.
    /// </summary>
    public static double Percentile(IReadOnlyCollection<double> values, double quantile)
    {
        if (quantile is < 0 or > 1 || double.IsNaN(quantile))
            throw new ArgumentOutOfRangeException(nameof(quantile), quantile, "quantile must be within [0, 1].");
        if (values.Count == 0)
            return 0.0;
        var sorted = values.Order().ToArray();
        var rank = quantile * (sorted.Length - 1);
        var below = (int)Math.Floor(rank);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
    }
}
