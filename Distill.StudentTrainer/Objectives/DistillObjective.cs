using Distill.Core.Divergence;

namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// <c>distill</c>, pure on-policy reverse-KL distillation: R̃ = −C with group advantages, or with
/// <c>--distill-per-token</c> the advantage of token t is −Σ_{u≥t} c_u (÷ T under mean aggregation), with no group baseline.
/// </summary>
public sealed class DistillObjective(ObjectiveOptions options) : ShapedRewardObjective(TrainingObjectiveFactory.Distill, options)
{
    public override GroupSignal ShapeGroup(IReadOnlyList<SampleOutcome> group)
    {
        if (!Options.DistillPerToken)
            return base.ShapeGroup(group);

        var samples = group.Select(Shape).ToArray();
        var tokenAdvantages = group.Select(sample => CostToGo(sample.TokenCosts)).ToArray();
        return new GroupSignal(samples, tokenAdvantages);
    }

    protected override double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated) => -sequenceCost;

    private double[] CostToGo(double[] tokenCosts)
    {
        var advantages = GroupAdvantages.NegativeCostToGo(tokenCosts);
        if (Options.Aggregation == CostAggregation.Mean && tokenCosts.Length > 0)
        {
            for (var t = 0; t < advantages.Length; t++)
                advantages[t] /= tokenCosts.Length;
        }
        return advantages;
    }
}
