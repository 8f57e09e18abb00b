namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// <c>sft</c>: maximise log π_θ(y*|x) on teacher-generated or reference solutions with <see cref="SupervisedLoss"/>.
/// It samples nothing, so it has no shaped reward and no state.
/// </summary>
public sealed class SftObjective : ITrainingObjective
{
    public string Name => TrainingObjectiveFactory.Sft;

    public bool IsSupervised => true;

    public ObjectiveState State => ObjectiveState.Stateless;

    public GroupSignal ShapeGroup(IReadOnlyList<SampleOutcome> group) =>
        throw new NotSupportedException("--objective sft is supervised: it has no shaped reward; train with SupervisedLoss.");

    public void ObserveStep(double meanSequenceCost)
    {
    }

    public void Restore(ObjectiveState state)
    {
    }
}
