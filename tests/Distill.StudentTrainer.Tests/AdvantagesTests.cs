using Distill.StudentTrainer.Objectives;

namespace Distill.StudentTrainer.Tests;

public class AdvantagesTests
{
    private static IReadOnlyList<ShapedSample> Group(params double[] rewards) =>
        rewards.Select(reward => ShapedSample.Trajectory(0, false, reward, 2, taskReward: reward)).ToArray();

    private static double[] First(double[][][] advantages, int group = 0) => advantages[group].Select(sample => sample[0]).ToArray();

    private static void Near(IEnumerable<double> expected, IEnumerable<double> actual) =>
        Assert.Equal(expected, actual, (e, a) => Math.Abs(e - a) < 1e-9);

    [Fact]
    public void GroupStdDividesByTheGroupsStd()
    {
        // (1, 0, 0, 1): mean 0.5, population std 0.5 → ±0.5 / (0.5 + 1e-6)
        Near([0.5 / 0.500001, -0.5 / 0.500001, -0.5 / 0.500001, 0.5 / 0.500001], First(Advantages.Compute([Group(1, 0, 0, 1)], AdvantageMode.GroupStd)));
    }

    [Fact]
    public void GroupMeanOnlyCentres()
    {
        // (3, 1, −1, 1): mean 1 → 2, 0, −2, 0
        Near([2, 0, -2, 0], First(Advantages.Compute([Group(3, 1, -1, 1)], AdvantageMode.GroupMean)));
    }

    [Fact]
    public void BatchStdCentresPerGroupAndScalesByTheWholeBatch()
    {
        // Batch values (1, 0) and (4, 2): mean 1.75, deviations −.75 −1.75 2.25 .25 → variance (0.5625 + 3.0625 + 5.0625 + 0.0625)/4
        // = 2.1875, std 1.4790199. Group 1: ±0.5 / std; group 2: ±1 / std.
        var std = Math.Sqrt(2.1875) + Advantages.Epsilon;
        var advantages = Advantages.Compute([Group(1, 0), Group(4, 2)], AdvantageMode.BatchStd);
        Near([0.5 / std, -0.5 / std], First(advantages, 0));
        Near([1 / std, -1 / std], First(advantages, 1));
    }

    [Fact]
    public void LeaveOneOutSubtractsTheOthersMean()
    {
        // (1, 0, 0, 1): 1 − (0 + 0 + 1)/3 = 2/3;  0 − (1 + 0 + 1)/3 = −2/3
        Near([2.0 / 3, -2.0 / 3, -2.0 / 3, 2.0 / 3], First(Advantages.Compute([Group(1, 0, 0, 1)], AdvantageMode.LeaveOneOut)));
    }

    [Theory]
    [InlineData(AdvantageMode.GroupStd)]
    [InlineData(AdvantageMode.GroupMean)]
    [InlineData(AdvantageMode.BatchStd)]
    [InlineData(AdvantageMode.LeaveOneOut)]
    [InlineData(AdvantageMode.GroupRewardBatchPenalty)]
    public void EqualRewardsGiveExactlyZeroAndNoNaN(AdvantageMode mode)
    {
        // 0.1 is not dyadic: (0.1 + 0.1 + 0.1) / 3 ≠ 0.1 in binary, so this catches rounding divided by ε.
        Assert.All(Advantages.Compute([Group(0.1, 0.1, 0.1)], mode)[0], sample => Assert.Equal([0.0, 0.0], sample));
        Assert.Equal([0.0, 0.0], Advantages.Compute([Group(-1.1)], mode)[0][0]);
        Assert.Empty(Advantages.Compute([Group()], mode)[0]);
    }

    [Theory]
    [InlineData(AdvantageMode.GroupMean)]
    [InlineData(AdvantageMode.GroupRewardBatchPenalty)]
    public void ReturnsToGoKeepTheirShapeAroundTheBaseline(AdvantageMode mode)
    {
        // cmdp per-token at n = 1, L = 2, d = 1: the first sample crosses its budget at token 1 and carries −0.5 on
        // tokens 1 and 2 (per-token rewards 0, −0.5, −0.5 → returns −1, −1, −0.5, with R = 1); its partner is right and
        // within (0, 0, 1 → returns 1, 1, 1). group-mean: baseline = mean of whole returns (−1 + 1)/2 = 0.
        // group-reward-batch-penalty: penalties −2 and 0, batch mean −1, equal task rewards: baseline 1 + (−1) = 0.
        // Either way the advantages are the returns themselves, token by token.
        var crossed = ShapedSample.PerToken(5, true, [0, -0.5, -0.5], taskReward: 1);
        var safe = ShapedSample.PerToken(0, false, [0, 0, 1], taskReward: 1);
        var advantages = Advantages.Compute([new[] { crossed, safe }], mode)[0];
        Near([-1, -1, -0.5], advantages[0]);
        Near([1, 1, 1], advantages[1]);
    }

    [Fact]
    public void KlPenaltyScaleMattersInTheDefaultModeAndCancelsUnderGroupStd()
    {
        // A group whose task rewards are all 1 and whose costs differ: only the penalty separates the samples.
        var options = new ObjectiveOptions { Threshold = 10 };
        SampleOutcome[] group = [new(1, false, [1.0, 1.0]), new(1, false, [3.0]), new(1, false, [0.5])];
        double[] AdvantagesAt(double lambda, AdvantageMode mode)
        {
            var objective = TrainingObjectiveFactory.Create("kl-penalty", options with { KlCoefficient = lambda, Advantage = mode });
            return First(Advantages.Compute([objective.ShapeGroup(group)], mode));
        }

        Assert.Equal(AdvantageMode.GroupMean, ObjectiveOptions.DefaultAdvantage);
        var small = AdvantagesAt(0.01, ObjectiveOptions.DefaultAdvantage);
        var large = AdvantagesAt(1.0, ObjectiveOptions.DefaultAdvantage);
        // C = (2, 3, 0.5), mean 11/6: A = −λ(C − mean) → λ = 1 gives 100× λ = 0.01's update.
        Near([-(2 - 11.0 / 6), -(3 - 11.0 / 6), -(0.5 - 11.0 / 6)], large);
        Near(large.Select(value => value / 100), small);
        // Group-std divides the scale away: the two coefficients give the same update there (up to ε in std + ε).
        Assert.Equal(AdvantagesAt(0.01, AdvantageMode.GroupStd), AdvantagesAt(1.0, AdvantageMode.GroupStd), (e, a) => Math.Abs(e - a) < 1e-3);
        Assert.Equal(1.0, Advantages.EqualTaskRewardShare([group]));
    }

    [Fact]
    public void AFlatViolationPenaltyCancelsInAGroupThatViolatesWholeAndTheSharesSaySo()
    {
        // The chance Lagrangian at λ = 2, d = 1: every violation costs the same 2, whatever its excess.
        var objective = TrainingObjectiveFactory.Create("lagrangian-chance", new ObjectiveOptions { Threshold = 1, LambdaInit = 2 });
        // Group a: all right, all over budget. Group b: all right, split across d. Group c: all right, all within.
        var whole = objective.ShapeGroup([new(1, true, [2.0]), new(1, true, [5.0]), new(1, true, [3.0])]);
        var split = objective.ShapeGroup([new(1, true, [2.0]), new(1, true, [0.5]), new(1, true, [0.2])]);
        var within = objective.ShapeGroup([new(1, true, [0.5]), new(1, true, [0.1]), new(1, true, [0.9])]);

        var advantages = Advantages.Compute([whole, split, within], ObjectiveOptions.DefaultAdvantage);
        // The penalty is the whole group's mean: no sample of group a learns that violating costs anything.
        Assert.All(First(advantages, 0), value => Assert.Equal(0.0, value));
        // In group b the violating sample is pushed down by λ against the other two: −2 + 2/3, +2/3, +2/3.
        Near([-4.0 / 3, 2.0 / 3, 2.0 / 3], First(advantages, 1));

        // 4 violations, 3 of them in the group that violated whole; one group of three split across d.
        Assert.Equal(0.75, Advantages.WholeGroupViolationShare([whole, split, within]));
        Assert.Equal(1.0 / 3, Advantages.SplitViolationGroupShare([whole, split, within]), 12);
        Assert.Equal(0.0, Advantages.WholeGroupViolationShare([within]));
        Assert.Equal(0.0, Advantages.SplitViolationGroupShare([whole, within]));
    }

    [Fact]
    public void TheBatchPenaltyBaselineKeepsAPenaltyThatAWholeGroupPays()
    {
        // cmdp at n = 1, κ = 0, d = 1. Group a: right and wrong, both over budget (R̃ = −1, −1). Group b: right and wrong,
        // both within (R̃ = 1, 0).
        var objective = TrainingObjectiveFactory.Create("cmdp", new ObjectiveOptions { Threshold = 1, Kappa = 0 });
        var whole = objective.ShapeGroup([new(1, true, [2.0]), new(0, true, [3.0])]);
        var within = objective.ShapeGroup([new(1, true, [0.5]), new(0, true, [0.2])]);
        Assert.Equal([-2.0, -1.0, 0.0, 0.0], whole.Concat(within).Select(sample => sample.Penalty));

        // The group mean cancels group a's penalty: its samples learn nothing.
        var groupMean = Advantages.Compute([whole, within], AdvantageMode.GroupMean);
        Assert.All(First(groupMean, 0), value => Assert.Equal(0.0, value));
        Near([0.5, -0.5], First(groupMean, 1));

        // Task rewards centred in each group (mean 0.5), penalties over the batch (mean −0.75):
        // group a: −1 − (0.5 − 0.75) = −0.75 each; group b: 1 − (−0.25) = 1.25 and 0 − (−0.25) = 0.25.
        var batchPenalty = Advantages.Compute([whole, within], AdvantageMode.GroupRewardBatchPenalty);
        Near([-0.75, -0.75], First(batchPenalty, 0));
        Near([1.25, 0.25], First(batchPenalty, 1));
        // Over the batch the penalty's part of the advantages sums to zero, as a baseline's should.
        Assert.Equal(0.0, batchPenalty.SelectMany(group => group).Sum(sample => sample[0]), 12);
    }

    [Fact]
    public void WithoutAPenaltyTheBatchPenaltyBaselineIsTheGroupMean()
    {
        // reward-only has no penalty; distill has no task reward, so its whole return −C is centred over the batch.
        var options = new ObjectiveOptions { Threshold = 1 };
        SampleOutcome[][] batch = [[new(1, true, [0.5]), new(0, false, [2.0]), new(1, true, [1.5])], [new(0, true, [0.1]), new(1, true, [3.0])]];
        var rewardOnly = TrainingObjectiveFactory.Create("reward-only", options);
        var shaped = batch.Select(group => rewardOnly.ShapeGroup(group)).ToArray();
        Assert.Equal(Advantages.Compute(shaped, AdvantageMode.GroupMean), Advantages.Compute(shaped, AdvantageMode.GroupRewardBatchPenalty));

        var distill = TrainingObjectiveFactory.Create("distill", options);
        var distilled = batch.Select(group => distill.ShapeGroup(group)).ToArray();
        Assert.All(distilled.SelectMany(group => group), sample => Assert.Equal(0.0, sample.TaskReward));
        // C = (0.5, 2, 1.5 | 0.1, 3): batch mean 7.1 / 5 = 1.42, so A = 1.42 − C.
        Near([1.42 - 0.5, 1.42 - 2.0, 1.42 - 1.5], First(Advantages.Compute(distilled, AdvantageMode.GroupRewardBatchPenalty), 0));
    }
}
