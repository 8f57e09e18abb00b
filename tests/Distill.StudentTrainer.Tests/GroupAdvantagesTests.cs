using Distill.StudentTrainer.Objectives;

namespace Distill.StudentTrainer.Tests;

public class GroupAdvantagesTests
{
    [Fact]
    public void GroupNormalized()
    {
        // (1, 0, 0, 1): mean 0.5, population std 0.5 → ±0.5 / (0.5 + 1e-6) = ±0.999998
        var advantages = GroupAdvantages.Compute([1.0, 0.0, 0.0, 1.0], AdvantageMode.GroupNormalized);
        Assert.Equal([0.999998, -0.999998, -0.999998, 0.999998], advantages.Select(a => Math.Round(a, 6)));
    }

    [Fact]
    public void LeaveOneOut()
    {
        // (1, 0, 0, 1): 1 - (0 + 0 + 1)/3 = 2/3;  0 - (1 + 0 + 1)/3 = -2/3
        var advantages = GroupAdvantages.Compute([1.0, 0.0, 0.0, 1.0], AdvantageMode.LeaveOneOut);
        Assert.Equal([2.0 / 3, -2.0 / 3, -2.0 / 3, 2.0 / 3], advantages, (expected, actual) => Math.Abs(expected - actual) < 1e-12);
    }

    [Theory]
    [InlineData(AdvantageMode.GroupNormalized)]
    [InlineData(AdvantageMode.LeaveOneOut)]
    public void EqualRewardsGiveExactlyZeroAndNoNaN(AdvantageMode mode)
    {
        // 0.1 is not dyadic: (0.1 + 0.1 + 0.1) / 3 ≠ 0.1 in binary, so this catches rounding divided by ε.
        Assert.Equal([0.0, 0.0, 0.0], GroupAdvantages.Compute([0.1, 0.1, 0.1], mode));
        Assert.Equal([0.0], GroupAdvantages.Compute([-1.1], mode));
        Assert.Empty(GroupAdvantages.Compute([], mode));
    }
}
