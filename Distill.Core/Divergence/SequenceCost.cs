namespace Distill.Core.Divergence;

/// <summary>The sequence cost C of a completion from its per-token costs.</summary>
public static class SequenceCost
{
    /// <summary>C = Σ_t c_t, or C = Σ_t c_t / T for <see cref="CostAggregation.Mean"/>; an empty completion costs 0.</summary>
    public static double Aggregate(ReadOnlySpan<double> tokenCosts, CostAggregation aggregation)
    {
        var sum = 0.0;
        foreach (var cost in tokenCosts)
            sum += cost;
        return aggregation switch
        {
            CostAggregation.Sum => sum,
            CostAggregation.Mean => tokenCosts.Length == 0 ? 0.0 : sum / tokenCosts.Length,
            _ => throw new ArgumentOutOfRangeException(nameof(aggregation), aggregation, "unknown cost aggregation."),
        };
    }
}
