namespace Distill.Core.Divergence;

/// <summary>
/// The KL budget of one trajectory: z starts at the threshold d and each token spends its cost, z ← z − c_t.
/// Under <see cref="CostAggregation.Mean"/> each token spends c_t / T, so the final budget is d − C under either
/// aggregation and the two scopes check the same constraint C ≤ d, once at the end or after every token.
/// </summary>
public sealed record KlBudget(double Threshold, BudgetScope Scope, CostAggregation Aggregation)
{
    /// <summary>The sequence cost C under this budget's aggregation.</summary>
    public double SequenceCost(ReadOnlySpan<double> tokenCosts) => Divergence.SequenceCost.Aggregate(tokenCosts, Aggregation);

    /// <summary>The budgets z_0 = d, z_1, …, z_T: element t + 1 is what is left after token t.</summary>
    public double[] Remaining(ReadOnlySpan<double> tokenCosts)
    {
        var scale = Aggregation == CostAggregation.Mean && tokenCosts.Length > 0 ? 1.0 / tokenCosts.Length : 1.0;
        var budgets = new double[tokenCosts.Length + 1];
        budgets[0] = Threshold;
        for (var t = 0; t < tokenCosts.Length; t++)
            budgets[t + 1] = budgets[t] - scale * tokenCosts[t];
        return budgets;
    }

    /// <summary>Sequence scope: the final budget is negative (C &gt; d). Prefix scope: any budget after a token is negative.</summary>
    public bool IsViolated(ReadOnlySpan<double> tokenCosts)
    {
        var budgets = Remaining(tokenCosts);
        return Scope switch
        {
            BudgetScope.Sequence => budgets[^1] < 0,
            BudgetScope.Prefix => budgets.Skip(1).Any(budget => budget < 0),
            _ => throw new ArgumentOutOfRangeException(nameof(Scope), Scope, "unknown budget scope."),
        };
    }
}
