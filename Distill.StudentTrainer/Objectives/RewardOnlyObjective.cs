namespace Distill.StudentTrainer.Objectives;

/// <summary><c>reward-only</c> (GRPO): R̃ = R (+ b); the cost is measured and logged but not optimised.</summary>
public sealed class RewardOnlyObjective(ObjectiveOptions options) : ShapedRewardObjective(TrainingObjectiveFactory.RewardOnly, options)
{
    protected override double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated) => TaskReward(sample);
}
