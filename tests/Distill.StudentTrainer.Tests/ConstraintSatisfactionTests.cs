using Distill.Core.Divergence;

namespace Distill.StudentTrainer.Tests;

public class ConstraintSatisfactionTests
{
    private static readonly double[] Costs = [0.2, 0.5, 1.0, 1.5, 3.0];

    [Fact]
    public void RateIsTheShareWithCostAtMostTheThreshold()
    {
        // C ≤ 1: 0.2, 0.5, 1.0 → 3 / 5
        Assert.Equal(0.6, ConstraintSatisfactionRate.At(Costs, 1.0), 12);
        Assert.Equal(0.0, ConstraintSatisfactionRate.At([], 1.0));
    }

    [Fact]
    public void SweepGivesTheRateAtEachThreshold()
    {
        // d = 0.1: none → 0;  d = 0.5: 0.2, 0.5 → 0.4;  d = 2: four → 0.8;  d = 5: all → 1
        var sweep = ConstraintSatisfactionRate.Sweep(Costs, [0.1, 0.5, 2.0, 5.0]);
        Assert.Equal([0.1, 0.5, 2.0, 5.0], sweep.Select(point => point.Threshold));
        Assert.Equal([0.0, 0.4, 0.8, 1.0], sweep.Select(point => point.Rate));
    }

    [Fact]
    public void MeanAndP90()
    {
        // mean = (0.2 + 0.5 + 1 + 1.5 + 3) / 5 = 6.2 / 5 = 1.24
        Assert.Equal(1.24, CostStatistics.Mean(Costs), 12);
        // rank 0.9·(5 - 1) = 3.6 → sorted[3] + 0.6·(sorted[4] - sorted[3]) = 1.5 + 0.6·1.5 = 2.4
        Assert.Equal(2.4, CostStatistics.P90(Costs), 12);
        Assert.Equal(7.0, CostStatistics.P90([7.0]));
    }
}
