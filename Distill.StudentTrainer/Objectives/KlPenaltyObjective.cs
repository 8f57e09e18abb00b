namespace Distill.StudentTrainer.Objectives;

/// <summary><c>kl-penalty</c> (GKD-with-reward style): R̃ = R − λ₀·C with a fixed λ₀ (<c>--kl-coef</c>).</summary>
public sealed class KlPenaltyObjective(ObjectiveOptions options) : ShapedRewardObjective(TrainingObjectiveFactory.KlPenalty, options)
{
    /// <summary>λ₀, reported for logging; it never changes, so restoring a checkpoint has nothing to put back.</summary>
    public override ObjectiveState State => new(Lambda: Options.KlCoefficient);

    public override double? Lambda => Options.KlCoefficient;

    protected override double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated) =>
        TaskReward(sample) - Options.KlCoefficient * sequenceCost;
}
