using Distill.Core.Divergence;

namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// The shared machinery of the RL objectives: sequence cost and violation from the KL budget, one shaped reward per
/// sample, group advantages repeated over each sample's tokens. Subclasses only say what R̃ is.
/// </summary>
public abstract class ShapedRewardObjective(string name, ObjectiveOptions options) : ITrainingObjective
{
    protected ObjectiveOptions Options { get; } = options;

    protected KlBudget Budget { get; } = new(options.Threshold, options.Scope, options.Aggregation);

    public string Name { get; } = name;

    public bool IsSupervised => false;

    public virtual ObjectiveState State => ObjectiveState.Stateless;

    public virtual GroupSignal ShapeGroup(IReadOnlyList<SampleOutcome> group)
    {
        var samples = group.Select(Shape).ToArray();
        var advantages = GroupAdvantages.Compute(samples.Select(sample => sample.ShapedReward).ToArray(), Options.Advantage);
        var tokenAdvantages = group.Select((sample, i) => Enumerable.Repeat(advantages[i], sample.TokenCosts.Length).ToArray()).ToArray();
        return new GroupSignal(samples, tokenAdvantages);
    }

    public virtual void ObserveStep(double meanSequenceCost)
    {
    }

    public virtual void Restore(ObjectiveState state)
    {
    }

    /// <summary>R̃ of one sample given its sequence cost C and whether it broke its budget.</summary>
    protected abstract double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated);

    /// <summary>R (+ b when a final-answer marker is present).</summary>
    protected double TaskReward(SampleOutcome sample) => sample.TaskReward + (sample.HasAnswerMarker ? Options.FormatBonus : 0.0);

    protected ShapedSample Shape(SampleOutcome sample)
    {
        var cost = Budget.SequenceCost(sample.TokenCosts);
        var violated = Budget.IsViolated(sample.TokenCosts);
        return new ShapedSample(cost, violated, ShapedReward(sample, cost, violated));
    }
}
