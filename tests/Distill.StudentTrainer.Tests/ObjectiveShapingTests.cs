using Distill.Core.Divergence;
using Distill.StudentTrainer.Objectives;

namespace Distill.StudentTrainer.Tests;

public class ObjectiveShapingTests
{
    private static readonly ObjectiveOptions Options = new() { Threshold = 1.0, Penalty = 1.0, Kappa = 0.1 };

    // d = 1. Costs and C (sum):
    private static readonly SampleOutcome CorrectCheap = new(1.0, false, [0.25, 0.25]);        // C = 0.5
    private static readonly SampleOutcome CorrectExpensive = new(1.0, false, [1.0, 1.0]);      // C = 2
    private static readonly SampleOutcome WrongCheap = new(0.0, false, [0.5]);                 // C = 0.5
    private static readonly SampleOutcome CorrectDipThenRecover = new(1.0, false, [2.0, -1.5, 0.25]); // C = 0.75, prefix dips to -1

    private static readonly SampleOutcome[] Group = [CorrectCheap, CorrectExpensive, WrongCheap, CorrectDipThenRecover];

    private static double[] Shaped(string objective, ObjectiveOptions options) =>
        TrainingObjectiveFactory.Create(objective, options).ShapeGroup(Group).Samples.Select(sample => sample.ShapedReward).ToArray();

    [Fact]
    public void CmdpPrefixScope()
    {
        // cheap correct: R = 1;  expensive: -n - κ·(2 - 1) = -1 - 0.1 = -1.1;  wrong cheap: R = 0;
        // dip: prefix violated, excess max(0, 0.75 - 1) = 0 → -1
        Assert.Equal([1.0, -1.1, 0.0, -1.0], Shaped("cmdp", Options));
    }

    [Fact]
    public void CmdpSequenceScope()
    {
        // as above, but the dip ends within budget → R = 1
        Assert.Equal([1.0, -1.1, 0.0, 1.0], Shaped("cmdp", Options with { Scope = BudgetScope.Sequence }));
    }

    [Fact]
    public void CmdpPureSauteAndFormatBonus()
    {
        // κ = 0: expensive → -n = -2. b = 0.5 with a marker: 1 + 0.5 = 1.5; no marker: 0.
        var options = Options with { Kappa = 0.0, Penalty = 2.0, FormatBonus = 0.5 };
        var objective = TrainingObjectiveFactory.Create("cmdp", options);
        var shaped = objective.ShapeGroup([CorrectCheap with { HasAnswerMarker = true }, CorrectExpensive, WrongCheap])
            .Samples.Select(sample => sample.ShapedReward);
        Assert.Equal([1.5, -2.0, 0.0], shaped);
    }

    [Fact]
    public void ShapedSamplesReportCostAndViolation()
    {
        var samples = TrainingObjectiveFactory.Create("cmdp", Options).ShapeGroup(Group).Samples;
        Assert.Equal([0.5, 2.0, 0.5, 0.75], samples.Select(sample => sample.SequenceCost));
        Assert.Equal([false, true, false, true], samples.Select(sample => sample.Violated));
    }

    [Fact]
    public void LagrangianSubtractsLambdaTimesCost()
    {
        // λ = 0.5: 1 - 0.25 = 0.75;  1 - 1 = 0;  0 - 0.25 = -0.25;  1 - 0.375 = 0.625
        Assert.Equal([0.75, 0.0, -0.25, 0.625], Shaped("lagrangian", Options with { LambdaInit = 0.5 }));
    }

    [Fact]
    public void KlPenaltyUsesTheFixedCoefficient()
    {
        // λ₀ = 0.1: 1 - 0.05 = 0.95;  1 - 0.2 = 0.8;  0 - 0.05 = -0.05;  1 - 0.075 = 0.925
        var shaped = Shaped("kl-penalty", Options with { KlCoefficient = 0.1 });
        Assert.Equal([0.95, 0.8, -0.05, 0.925], shaped, (expected, actual) => Math.Abs(expected - actual) < 1e-12);
    }

    [Fact]
    public void RewardOnlyIgnoresCost()
    {
        Assert.Equal([1.0, 1.0, 0.0, 1.0], Shaped("reward-only", Options));
    }

    [Fact]
    public void DistillIsMinusCost()
    {
        Assert.Equal([-0.5, -2.0, -0.5, -0.75], Shaped("distill", Options));
    }

    [Fact]
    public void PerTokenDistillAdvantageIsMinusCostToGo()
    {
        // costs (2, -1.5, 0.25): Σ_{u≥0} = 0.75 → -0.75;  Σ_{u≥1} = -1.25 → 1.25;  Σ_{u≥2} = 0.25 → -0.25
        var objective = TrainingObjectiveFactory.Create("distill", Options with { DistillPerToken = true });
        var signal = objective.ShapeGroup([CorrectDipThenRecover]);
        Assert.Equal([-0.75, 1.25, -0.25], signal.TokenAdvantages[0]);
        Assert.Equal(-0.75, signal.Samples[0].ShapedReward);

        // mean aggregation divides by T = 3
        var mean = TrainingObjectiveFactory.Create("distill", Options with { DistillPerToken = true, Aggregation = CostAggregation.Mean });
        Assert.Equal([-0.25, 1.25 / 3, -0.25 / 3], mean.ShapeGroup([CorrectDipThenRecover]).TokenAdvantages[0],
            (expected, actual) => Math.Abs(expected - actual) < 1e-12);
    }

    [Fact]
    public void SequenceAdvantagesAreRepeatedOverEachSamplesTokens()
    {
        // reward-only rewards (1, 0): mean 0.5, std 0.5 → A = ±0.5 / (0.5 + 1e-6) = ±0.999998
        var signal = TrainingObjectiveFactory.Create("reward-only", Options).ShapeGroup([CorrectCheap, WrongCheap]);
        Assert.Equal(2, signal.TokenAdvantages[0].Length);
        Assert.Single(signal.TokenAdvantages[1]);
        Assert.All(signal.TokenAdvantages[0], advantage => Assert.Equal(0.999998, advantage, 6));
        Assert.Equal(-0.999998, signal.TokenAdvantages[1][0], 6);
    }

    [Fact]
    public void SftHasNoShapedReward()
    {
        var sft = TrainingObjectiveFactory.Create("sft", Options);
        Assert.True(sft.IsSupervised);
        var error = Assert.Throws<NotSupportedException>(() => sft.ShapeGroup(Group));
        Assert.Contains("sft", error.Message);
    }

    [Fact]
    public void UnknownObjectiveNamesTheFlag()
    {
        var error = Assert.Throws<ArgumentException>(() => TrainingObjectiveFactory.Create("ppo", Options));
        Assert.Contains("--objective", error.Message);
        Assert.Contains("'ppo'", error.Message);
        Assert.Contains("cmdp|lagrangian|kl-penalty|reward-only|distill|sft", error.Message);
    }

    [Fact]
    public void FactoryAcceptsEveryNameCaseInsensitively()
    {
        foreach (var name in TrainingObjectiveFactory.Names)
            Assert.Equal(name, TrainingObjectiveFactory.Create(name.ToUpperInvariant(), Options).Name);
    }
}
