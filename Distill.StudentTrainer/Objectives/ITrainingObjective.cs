namespace Distill.StudentTrainer.Objectives;

/// <summary>The batch statistics of the constraint that a step reports to its objective after the update.</summary>
/// <param name="MeanSequenceCost">Ĉ, the batch mean of the sequence cost C.</param>
/// <param name="ViolationRate">v̂, the share of the batch's samples that broke their budget.</param>
public readonly record struct ConstraintObservation(double MeanSequenceCost, double ViolationRate);

/// <summary>
/// A reinforcement-learning objective: turns one prompt's group of sampled completions into shaped returns, and updates
/// whatever it keeps between steps (λ). Advantages are then computed over the whole batch by <see cref="Advantages"/>.
/// The supervised <c>sft</c> is not an objective of this kind: the trainer gives it its own update.
/// </summary>
public interface ITrainingObjective
{
    /// <summary>The <c>--objective</c> name.</summary>
    string Name { get; }

    /// <summary>What a checkpoint saves; <see cref="Restore"/> puts it back.</summary>
    ObjectiveState State { get; }

    /// <summary>λ when the objective has one (logged every step), else null.</summary>
    double? Lambda { get; }

    /// <summary>Shaped returns of one prompt's group of G samples.</summary>
    IReadOnlyList<ShapedSample> ShapeGroup(IReadOnlyList<SampleOutcome> group);

    /// <summary>Called once after each optimiser step with the batch's constraint statistics.</summary>
    void ObserveStep(ConstraintObservation observation);

    void Restore(ObjectiveState state);
}
