using Distill.Core.Divergence;
using Distill.StudentTrainer.Objectives;

namespace Distill.StudentTrainer.Tests;

public class ObjectiveShapingTests
{
    private static readonly ObjectiveOptions Options = new() { Threshold = 1.0, Penalty = 1.0, Kappa = 0.1, Scope = BudgetScope.Prefix };

    // d = 1. Costs and C (sum):
    private static readonly SampleOutcome CorrectCheap = new(1.0, false, [0.25, 0.25]);        // C = 0.5
    private static readonly SampleOutcome CorrectExpensive = new(1.0, false, [1.0, 1.0]);      // C = 2
    private static readonly SampleOutcome WrongCheap = new(0.0, false, [0.5]);                 // C = 0.5
    private static readonly SampleOutcome CorrectDipThenRecover = new(1.0, false, [2.0, -1.5, 0.25]); // C = 0.75, prefix dips to -1

    private static readonly SampleOutcome[] Group = [CorrectCheap, CorrectExpensive, WrongCheap, CorrectDipThenRecover];

    private static double[] Shaped(string objective, ObjectiveOptions options) =>
        TrainingObjectiveFactory.Create(objective, options).ShapeGroup(Group).Select(sample => sample.ShapedReward).ToArray();

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
            .Select(sample => sample.ShapedReward);
        Assert.Equal([1.5, -2.0, 0.0], shaped);
    }

    [Fact]
    public void ShapedSamplesReportCostAndViolation()
    {
        var samples = TrainingObjectiveFactory.Create("cmdp", Options).ShapeGroup(Group);
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
    public void PerTokenDistillReturnIsMinusCostToGo()
    {
        // costs (2, -1.5, 0.25): Σ_{u≥0} = 0.75 → -0.75;  Σ_{u≥1} = -1.25 → 1.25;  Σ_{u≥2} = 0.25 → -0.25
        var objective = TrainingObjectiveFactory.Create("distill", Options with { DistillPerToken = true });
        var sample = objective.ShapeGroup([CorrectDipThenRecover])[0];
        Assert.Equal([-0.75, 1.25, -0.25], sample.ReturnsToGo);
        Assert.Equal(-0.75, sample.ShapedReward);

        // mean aggregation divides by T = 3
        var mean = TrainingObjectiveFactory.Create("distill", Options with { DistillPerToken = true, Aggregation = CostAggregation.Mean });
        Assert.Equal([-0.25, 1.25 / 3, -0.25 / 3], mean.ShapeGroup([CorrectDipThenRecover])[0].ReturnsToGo,
            (expected, actual) => Math.Abs(expected - actual) < 1e-12);
    }

    [Fact]
    public void TrajectoryRewardsAreTheReturnOfEveryToken()
    {
        var samples = TrainingObjectiveFactory.Create("reward-only", Options).ShapeGroup([CorrectCheap, WrongCheap]);
        Assert.Equal([1.0, 1.0], samples[0].ReturnsToGo);
        Assert.Equal([0.0], samples[1].ReturnsToGo);
    }

    // Saute's per-token form, d = 1, n = 1, L = 4 (−n/L = −0.25 on every token from the crossing on).
    private static readonly ObjectiveOptions PerToken = Options with { CmdpForm = CmdpForm.PerToken, MaxCompletionLength = 4 };

    [Fact]
    public void CmdpPerTokenPaysTheUnsafeRewardFromTheCrossingOn()
    {
        // costs (0.5, 0.75, 0.25): budgets 1 → 0.5 → −0.25 → −0.5; crossing after token 1 → r̃ = (0, −.25, −.25), G = (−.5, −.5, −.25)
        var crossesAtOne = new SampleOutcome(1.0, false, [0.5, 0.75, 0.25]);
        // safe and correct, 3 tokens: R = 1 on the last token → G = (1, 1, 1)
        var safe = new SampleOutcome(1.0, false, [0.25, 0.25, 0.25]);
        // crossing at token 0: r̃ = (−.25, −.25) → G = (−.5, −.25)
        var crossesAtZero = new SampleOutcome(1.0, true, [2.0, 0.0]);
        var shaped = TrainingObjectiveFactory.Create("cmdp", PerToken).ShapeGroup([crossesAtOne, safe, crossesAtZero]);

        Assert.Equal([-0.5, -0.5, -0.25], shaped[0].ReturnsToGo);
        Assert.Equal([1.0, 1.0, 1.0], shaped[1].ReturnsToGo);
        Assert.Equal([-0.5, -0.25], shaped[2].ReturnsToGo);
        Assert.Equal([-0.5, 1.0, -0.5], shaped.Select(sample => sample.ShapedReward));
        Assert.Equal([true, false, true], shaped.Select(sample => sample.Violated));

        // Advantages (group-mean): baseline (−0.5 + 1 − 0.5)/3 = 0 → the returns themselves; tokens before the crossing
        // carry the same (smaller) blame as in a trajectory reward only from the crossing's return on.
        var advantages = Advantages.Compute([shaped], AdvantageMode.GroupMean)[0];
        Assert.Equal([-0.5, -0.5, -0.25], advantages[0], (e, a) => Math.Abs(e - a) < 1e-12);
    }

    [Fact]
    public void CmdpPerTokenInSequenceScopeForgivesARecoveredDip()
    {
        // (2, −1.5, 0.25) dips below the budget and recovers: prefix scope crosses at token 0, sequence scope is safe.
        var prefix = TrainingObjectiveFactory.Create("cmdp", PerToken).ShapeGroup([CorrectDipThenRecover])[0];
        Assert.Equal([-0.75, -0.5, -0.25], prefix.ReturnsToGo);
        var sequence = TrainingObjectiveFactory.Create("cmdp", PerToken with { Scope = BudgetScope.Sequence }).ShapeGroup([CorrectDipThenRecover])[0];
        Assert.Equal([1.0, 1.0, 1.0], sequence.ReturnsToGo);
    }

    [Fact]
    public void ChanceLagrangianPenalisesViolationsNotCost()
    {
        // λ = 0.5, indicator: violations (prefix scope) are samples 2 and 4 → 1, 1 − 0.5, 0, 1 − 0.5
        Assert.Equal([1.0, 0.5, 0.0, 0.5], Shaped("lagrangian-chance", Options with { LambdaInit = 0.5 }));
        // hinge: λ·max(0, C − d): 0, 0.5·1, 0, 0 → 1, 0.5, 0, 1
        Assert.Equal([1.0, 0.5, 0.0, 1.0], Shaped("lagrangian-chance", Options with { LambdaInit = 0.5, ChanceCost = ChanceCost.Hinge }));
    }

    [Fact]
    public void ChanceLagrangianSteersTheViolationRateToDelta()
    {
        var objective = TrainingObjectiveFactory.Create("lagrangian-chance", Options with { LambdaInit = 0.5, LambdaLearningRate = 2, ViolationTarget = 0.1 });
        objective.ObserveStep(new ConstraintObservation(MeanSequenceCost: 100, ViolationRate: 0.35));  // 0.5 + 2·(0.35 − 0.1) = 1.0
        Assert.Equal(1.0, objective.Lambda!.Value, 12);
        objective.ObserveStep(new ConstraintObservation(MeanSequenceCost: 100, ViolationRate: 0.0));   // 1.0 + 2·(0 − 0.1) = 0.8; Ĉ is not what it watches
        Assert.Equal(0.8, objective.Lambda!.Value, 12);
    }

    [Fact]
    public void SftIsSupervisedAndHasNoObjective()
    {
        Assert.True(TrainingObjectiveFactory.IsSupervised("SFT"));
        Assert.False(TrainingObjectiveFactory.IsSupervised("cmdp"));
        var error = Assert.Throws<ArgumentException>(() => TrainingObjectiveFactory.Create("sft", Options));
        Assert.Contains("supervised", error.Message);
    }

    [Fact]
    public void FormatBonusOfOneOrMoreIsRefusedWhereItIsParsed()
    {
        var problems = (Options with { FormatBonus = 1.0 }).Validate();
        Assert.Contains(problems, problem => problem.Contains("--format-bonus"));
    }

    [Fact]
    public void UnknownObjectiveNamesTheFlag()
    {
        var error = Assert.Throws<ArgumentException>(() => TrainingObjectiveFactory.Create("ppo", Options));
        Assert.Contains("--objective", error.Message);
        Assert.Contains("'ppo'", error.Message);
        Assert.Contains("cmdp|lagrangian|lagrangian-chance|kl-penalty|reward-only|distill|sft", error.Message);
    }

    [Fact]
    public void FactoryAcceptsEveryNameCaseInsensitively()
    {
        foreach (var name in TrainingObjectiveFactory.Names.Where(name => !TrainingObjectiveFactory.IsSupervised(name)))
            Assert.Equal(name, TrainingObjectiveFactory.Create(name.ToUpperInvariant(), Options).Name);
    }
}
