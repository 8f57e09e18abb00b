namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// <c>cmdp</c>, the method: Saute reshaping without state augmentation. R̃ = R (+ b) within budget; a trajectory that
/// breaks it gets −n − κ·max(0, C − d). The budget is a function of the prefix, so the policy needs no budget input.
/// </summary>
public sealed class CmdpObjective(ObjectiveOptions options) : ShapedRewardObjective(TrainingObjectiveFactory.Cmdp, options)
{
    protected override double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated) =>
        violated
            ? -Options.Penalty - Options.Kappa * Math.Max(0.0, sequenceCost - Options.Threshold)
            : TaskReward(sample);
}
