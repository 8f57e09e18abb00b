using Distill.Core.Divergence;

namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// The shared machinery of the RL objectives: sequence cost and violation from the KL budget, one trajectory-level shaped
/// reward per sample. Subclasses say what R̃ is, or override <see cref="Shape"/> for a per-token form.
/// </summary>
public abstract class ShapedRewardObjective(string name, ObjectiveOptions options) : ITrainingObjective
{
    protected ObjectiveOptions Options { get; } = options;

    protected KlBudget Budget { get; } = new(options.Threshold, options.Scope, options.Aggregation);

    public string Name { get; } = name;

    public virtual ObjectiveState State => ObjectiveState.Stateless;

    public virtual double? Lambda => null;

    public IReadOnlyList<ShapedSample> ShapeGroup(IReadOnlyList<SampleOutcome> group) => group.Select(Shape).ToArray();

    public virtual void ObserveStep(ConstraintObservation observation)
    {
    }

    public virtual void Restore(ObjectiveState state)
    {
    }

    /// <summary>R̃ of one sample given its sequence cost C and whether it broke its budget.</summary>
    protected abstract double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated);

    /// <summary>R (+ b when a final-answer marker is present).</summary>
    protected double TaskReward(SampleOutcome sample) => sample.TaskReward + (sample.HasAnswerMarker ? Options.FormatBonus : 0.0);

    protected virtual ShapedSample Shape(SampleOutcome sample)
    {
        var cost = Budget.SequenceCost(sample.TokenCosts);
        var violated = Budget.IsViolated(sample.TokenCosts);
        return ShapedSample.Trajectory(cost, violated, ShapedReward(sample, cost, violated), sample.TokenCosts.Length, TaskReward(sample));
    }
}
