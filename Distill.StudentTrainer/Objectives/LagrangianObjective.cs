namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// <c>lagrangian</c>, the soft Lagrangian relaxation: R̃ = R (+ b) − λ·C, with λ moved after every step towards
/// satisfying Ĉ ≤ d by dual ascent or by the PID update. λ stays within [0, λ_max].
/// </summary>
public sealed class LagrangianObjective(ObjectiveOptions options) : ShapedRewardObjective(TrainingObjectiveFactory.Lagrangian, options)
{
    private ObjectiveState _state = new(Lambda: options.LambdaInit);

    public override ObjectiveState State => _state;

    public double Lambda => _state.Lambda;

    public override void ObserveStep(double meanSequenceCost)
    {
        if (!double.IsFinite(meanSequenceCost))
            throw new ArgumentOutOfRangeException(nameof(meanSequenceCost), meanSequenceCost, "the batch mean cost must be finite.");

        var error = meanSequenceCost - Options.Threshold;
        _state = Options.LambdaUpdate switch
        {
            LambdaUpdate.DualAscent => _state with
            {
                Lambda = Clip(_state.Lambda + Options.LambdaLearningRate * error),
                PreviousMeanCost = meanSequenceCost,
            },
            LambdaUpdate.Pid => PidStep(error, meanSequenceCost),
            _ => throw new InvalidOperationException($"unknown --lambda-update {Options.LambdaUpdate}."),
        };
    }

    public override void Restore(ObjectiveState state)
    {
        if (!double.IsFinite(state.Lambda) || state.Lambda < 0 || state.Lambda > Options.LambdaMax)
            throw new ArgumentException($"checkpointed λ = {state.Lambda} is outside [0, --lambda-max = {Options.LambdaMax}].", nameof(state));
        if (!double.IsFinite(state.PidIntegral) || state.PidIntegral < 0)
            throw new ArgumentException($"checkpointed PID integral = {state.PidIntegral} must be finite and >= 0.", nameof(state));
        _state = state;
    }

    protected override double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated) =>
        TaskReward(sample) - _state.Lambda * sequenceCost;

    private ObjectiveState PidStep(double error, double meanSequenceCost)
    {
        var gains = Options.Pid;
        var integral = Math.Max(0.0, _state.PidIntegral + error);
        // Only a rising cost pushes λ up through the derivative term; there is none before the first step.
        var rise = _state.PreviousMeanCost is { } previous ? Math.Max(0.0, meanSequenceCost - previous) : 0.0;
        var lambda = Clip(gains.Proportional * error + gains.Integral * integral + gains.Derivative * rise);
        return new ObjectiveState(lambda, integral, meanSequenceCost);
    }

    private double Clip(double lambda) => Math.Clamp(lambda, 0.0, Options.LambdaMax);
}
