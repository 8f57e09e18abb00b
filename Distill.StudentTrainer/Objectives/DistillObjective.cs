using Distill.Core.Divergence;

namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// <c>distill</c>, pure on-policy reverse-KL distillation: R̃ = −C, or with <c>--distill-per-token</c> the per-token reward
/// −c_t (÷ T under mean aggregation), so token t's return is −Σ_{u≥t} c_u. It has no task reward: the whole return is
/// divergence.
/// </summary>
public sealed class DistillObjective(ObjectiveOptions options) : ShapedRewardObjective(TrainingObjectiveFactory.Distill, options)
{
    protected override double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated) => -sequenceCost;

    protected override ShapedSample Shape(SampleOutcome sample)
    {
        var costs = sample.TokenCosts;
        var sequenceCost = Budget.SequenceCost(costs);
        var violated = Budget.IsViolated(costs);
        if (!Options.DistillPerToken)
            return ShapedSample.Trajectory(sequenceCost, violated, ShapedReward(sample, sequenceCost, violated), costs.Length, taskReward: 0.0);

        var scale = Options.Aggregation == CostAggregation.Mean && costs.Length > 0 ? 1.0 / costs.Length : 1.0;
        return ShapedSample.PerToken(sequenceCost, violated, costs.Select(cost => -scale * cost).ToArray(), taskReward: 0.0);
    }
}
