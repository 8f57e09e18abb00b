using Distill.Core.Divergence;

namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// <c>distill</c>, pure on-policy reverse-KL distillation: R̃ = −C, or with <c>--distill-per-token</c> the per-token reward
/// −c_t (÷ T under mean aggregation), so token t's return is −Σ_{u≥t} c_u.
/// </summary>
public sealed class DistillObjective(ObjectiveOptions options) : ShapedRewardObjective(TrainingObjectiveFactory.Distill, options)
{
    protected override double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated) => -sequenceCost;

    protected override ShapedSample Shape(SampleOutcome sample)
    {
        if (!Options.DistillPerToken)
            return base.Shape(sample);

        var costs = sample.TokenCosts;
        var scale = Options.Aggregation == CostAggregation.Mean && costs.Length > 0 ? 1.0 / costs.Length : 1.0;
        return ShapedSample.PerToken(Budget.SequenceCost(costs), Budget.IsViolated(costs), costs.Select(cost => -scale * cost).ToArray());
    }
}
