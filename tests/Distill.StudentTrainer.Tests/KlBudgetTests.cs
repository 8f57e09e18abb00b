using Distill.Core.Divergence;

namespace Distill.StudentTrainer.Tests;

public class KlBudgetTests
{
    // k1 costs can be negative: the prefix overdraws the budget, the total stays within it.
    private static readonly double[] DipThenRecover = [2.0, -1.5, 0.25];

    [Fact]
    public void BudgetsSpendEachTokenCost()
    {
        // d = 1:  z0 = 1,  z1 = 1 - 2 = -1,  z2 = -1 + 1.5 = 0.5,  z3 = 0.5 - 0.25 = 0.25
        var budget = new KlBudget(1.0, BudgetScope.Prefix, CostAggregation.Sum);
        Assert.Equal([1.0, -1.0, 0.5, 0.25], budget.Remaining(DipThenRecover));
        // C = 2 - 1.5 + 0.25 = 0.75
        Assert.Equal(0.75, budget.SequenceCost(DipThenRecover));
    }

    [Fact]
    public void APrefixThatDipsBelowZeroViolatesThePrefixScopeButNotTheSequenceScope()
    {
        // min prefix budget -1 < 0 → violated under prefix; final budget 0.25 ≥ 0 (C = 0.75 ≤ 1) → satisfied under sequence.
        Assert.True(new KlBudget(1.0, BudgetScope.Prefix, CostAggregation.Sum).IsViolated(DipThenRecover));
        Assert.False(new KlBudget(1.0, BudgetScope.Sequence, CostAggregation.Sum).IsViolated(DipThenRecover));
    }

    [Fact]
    public void SequenceScopeIsViolatedExactlyWhenTheCostExceedsTheThreshold()
    {
        var budget = new KlBudget(1.0, BudgetScope.Sequence, CostAggregation.Sum);
        Assert.False(budget.IsViolated([0.5, 0.5]));   // C = 1 = d: allowed
        Assert.True(budget.IsViolated([0.5, 0.75]));   // C = 1.25 > 1
        Assert.False(budget.IsViolated([]));           // C = 0
    }

    [Fact]
    public void MeanAggregationSpendsCostOverLength()
    {
        // T = 4, each token spends c_t / 4:  z = 1, 1 - 1 = 0, 0 - 1 = -1, -1 + 0.5 = -0.5, -0.5 + 0.5 = 0
        // C = (4 + 4 - 2 - 2) / 4 = 1 ≤ 1 → sequence satisfied; prefix dips to -1 → violated.
        double[] costs = [4.0, 4.0, -2.0, -2.0];
        var prefix = new KlBudget(1.0, BudgetScope.Prefix, CostAggregation.Mean);
        Assert.Equal([1.0, 0.0, -1.0, -0.5, 0.0], prefix.Remaining(costs));
        Assert.Equal(1.0, prefix.SequenceCost(costs));
        Assert.True(prefix.IsViolated(costs));
        Assert.False((prefix with { Scope = BudgetScope.Sequence }).IsViolated(costs));
    }

    [Fact]
    public void SequenceCostSumsOrAverages()
    {
        // Σ = 0.5 - 1 + 0 = -0.5;  mean = -0.5 / 3
        Assert.Equal(-0.5, SequenceCost.Aggregate([0.5, -1.0, 0.0], CostAggregation.Sum));
        Assert.Equal(-0.5 / 3, SequenceCost.Aggregate([0.5, -1.0, 0.0], CostAggregation.Mean), 12);
        Assert.Equal(0.0, SequenceCost.Aggregate([], CostAggregation.Mean));
    }
}
