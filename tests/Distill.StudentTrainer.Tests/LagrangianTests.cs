using System.Text.Json;
using Distill.StudentTrainer.Objectives;

namespace Distill.StudentTrainer.Tests;

public class LagrangianTests
{
    private static readonly ObjectiveOptions DualAscent = new()
    {
        Threshold = 1.0, LambdaInit = 0.5, LambdaLearningRate = 0.1, LambdaMax = 2.0,
    };

    private static LagrangianObjective Create(ObjectiveOptions options) =>
        (LagrangianObjective)TrainingObjectiveFactory.Create("lagrangian", options);

    [Fact]
    public void DualAscentRaisesLambdaAboveTheThresholdAndLowersItBelow()
    {
        var objective = Create(DualAscent);
        objective.ObserveStep(new ConstraintObservation(3.0, 0));   // 0.5 + 0.1·(3 - 1) = 0.7
        Assert.Equal(0.7, objective.Lambda!.Value, 12);
        objective.ObserveStep(new ConstraintObservation(0.0, 0));   // 0.7 + 0.1·(0 - 1) = 0.6
        Assert.Equal(0.6, objective.Lambda!.Value, 12);
    }

    [Fact]
    public void LambdaIsClippedToZeroAndLambdaMax()
    {
        var objective = Create(DualAscent with { LambdaInit = 0.05 });
        objective.ObserveStep(new ConstraintObservation(0.0, 0));   // 0.05 - 0.1 = -0.05 → 0
        Assert.Equal(0.0, objective.Lambda!.Value);
        objective.ObserveStep(new ConstraintObservation(0.0, 0));   // stays at 0, never negative
        Assert.Equal(0.0, objective.Lambda!.Value);
        objective.ObserveStep(new ConstraintObservation(100.0, 0)); // 0 + 0.1·99 = 9.9 → λmax = 2
        Assert.Equal(2.0, objective.Lambda!.Value);
    }

    [Fact]
    public void PidFollowsMethodFormula()
    {
        // Kp = 0.5, Ki = 0.1, Kd = 1, d = 1, λmax = 10
        var objective = Create(DualAscent with { LambdaUpdate = LambdaUpdate.Pid, LambdaMax = 10.0, PidKp = 0.5, PidKi = 0.1, PidKd = 1.0 });

        // Ĉ = 3: e = 2, I = 2, no previous → D = 0;  λ = 1 + 0.2 = 1.2
        objective.ObserveStep(new ConstraintObservation(3.0, 0));
        Assert.Equal(new ObjectiveState(1.2, 2.0, 3.0), Rounded(objective.State));
        // Ĉ = 4: e = 3, I = 5, D = max(0, 4 - 3) = 1;  λ = 1.5 + 0.5 + 1 = 3
        objective.ObserveStep(new ConstraintObservation(4.0, 0));
        Assert.Equal(new ObjectiveState(3.0, 5.0, 4.0), Rounded(objective.State));
        // Ĉ = 0: e = -1, I = 4, D = max(0, 0 - 4) = 0;  λ = -0.5 + 0.4 = -0.1 → 0
        objective.ObserveStep(new ConstraintObservation(0.0, 0));
        Assert.Equal(new ObjectiveState(0.0, 4.0, 0.0), Rounded(objective.State));
        // Ĉ = 0: e = -1, I = 3;  λ = -0.5 + 0.3 = -0.2 → 0
        objective.ObserveStep(new ConstraintObservation(0.0, 0));
        Assert.Equal(new ObjectiveState(0.0, 3.0, 0.0), Rounded(objective.State));
    }

    [Fact]
    public void StateRoundTripsThroughJsonAndRestores()
    {
        var trained = Create(DualAscent with { LambdaUpdate = LambdaUpdate.Pid, LambdaMax = 10.0, PidKp = 0.5, PidKi = 0.1, PidKd = 1.0 });
        trained.ObserveStep(new ConstraintObservation(3.0, 0));
        var json = JsonSerializer.Serialize(trained.State);
        var restored = Create(DualAscent with { LambdaUpdate = LambdaUpdate.Pid, LambdaMax = 10.0, PidKp = 0.5, PidKi = 0.1, PidKd = 1.0 });
        restored.Restore(JsonSerializer.Deserialize<ObjectiveState>(json)!);
        Assert.Equal(trained.State, restored.State);

        // the next step continues from the restored integral and previous cost: e = 3, I = 5, D = 1 → λ = 3
        restored.ObserveStep(new ConstraintObservation(4.0, 0));
        Assert.Equal(3.0, restored.Lambda!.Value, 12);
    }

    [Fact]
    public void RestoringANegativeLambdaIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => Create(DualAscent).Restore(new ObjectiveState(Lambda: -0.1)));
        Assert.Contains("λ", error.Message);
    }

    [Fact]
    public void ShapingUsesTheCurrentLambda()
    {
        // after one step λ = 0.7:  R - λC = 1 - 0.7·2 = -0.4
        var objective = Create(DualAscent);
        objective.ObserveStep(new ConstraintObservation(3.0, 0));
        var shaped = objective.ShapeGroup([new SampleOutcome(1.0, false, [1.0, 1.0])])[0].ShapedReward;
        Assert.Equal(-0.4, shaped, 12);
    }

    private static ObjectiveState Rounded(ObjectiveState state) =>
        new(Math.Round(state.Lambda, 12), Math.Round(state.PidIntegral, 12), state.PreviousMeanCost);
}
