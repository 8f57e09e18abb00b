namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// A training objective: turns one prompt's group of sampled completions into shaped rewards R̃ and advantages, and
/// updates whatever it keeps between steps. Supervised objectives (<see cref="IsSupervised"/>) shape nothing: the
/// trainer fits reference solutions with <see cref="SupervisedLoss"/> instead.
/// </summary>
public interface ITrainingObjective
{
    /// <summary>The <c>--objective</c> name.</summary>
    string Name { get; }

    bool IsSupervised { get; }

    /// <summary>What a checkpoint saves; <see cref="Restore"/> puts it back.</summary>
    ObjectiveState State { get; }

    /// <summary>Shaped rewards and per-token advantages of one prompt's group of G samples.</summary>
    GroupSignal ShapeGroup(IReadOnlyList<SampleOutcome> group);

    /// <summary>Called once after each optimiser step with Ĉ, the batch mean of the sequence cost C.</summary>
    void ObserveStep(double meanSequenceCost);

    void Restore(ObjectiveState state);
}
