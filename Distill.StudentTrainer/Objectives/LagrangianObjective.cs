namespace Distill.StudentTrainer.Objectives;

/// <summary>Which constraint the Lagrangian relaxes (objective names <c>lagrangian</c> and <c>lagrangian-chance</c>).</summary>
public enum LagrangianForm
{
    /// <summary>E[C] ≤ d: R̃ = R − λ·C, λ driven by Ĉ − d.</summary>
    Expectation,

    /// <summary>P(C &gt; d) ≤ δ: R̃ = R − λ·[C &gt; d] (or the hinge λ·max(0, C − d)), λ driven by v̂ − δ.</summary>
    Chance,
}

/// <summary>The chance form's per-sample cost (<c>--chance-cost</c>).</summary>
[System.ComponentModel.TypeConverter(typeof(Distill.Core.Configuration.KebabCaseEnumConverter))]
public enum ChanceCost
{
    /// <summary>[C &gt; d]: 1 for a violating sample.</summary>
    Indicator,

    /// <summary>max(0, C − d): how far past the budget.</summary>
    Hinge,
}

/// <summary>
/// The soft Lagrangian baselines. <c>lagrangian</c> (expectation form): R̃ = R (+ b) − λ·C, λ ← clip(λ + η(Ĉ − d)) or the
/// PID update. <c>lagrangian-chance</c> (the fair counterpart of a per-trajectory constraint): R̃ = R (+ b) − λ·g(C) with
/// g the indicator [C &gt; d] or the hinge, λ ← clip(λ + η(v̂ − δ)) or PID on v̂ − δ. λ stays within [0, λ_max].
/// </summary>
public sealed class LagrangianObjective(ObjectiveOptions options, LagrangianForm form)
    : ShapedRewardObjective(form == LagrangianForm.Chance ? TrainingObjectiveFactory.LagrangianChance : TrainingObjectiveFactory.Lagrangian, options)
{
    private ObjectiveState _state = new(Lambda: options.LambdaInit);

    public LagrangianForm Form { get; } = form;

    public override ObjectiveState State => _state;

    public override double? Lambda => _state.Lambda;

    public override void ObserveStep(ConstraintObservation observation)
    {
        // The PID derivative term watches the quantity that is constrained: Ĉ for the expectation form, v̂ for the chance form.
        var measured = Form == LagrangianForm.Chance ? observation.ViolationRate : observation.MeanSequenceCost;
        if (!double.IsFinite(measured))
            throw new ArgumentOutOfRangeException(nameof(observation), measured, "the batch's constraint statistic must be finite.");

        var error = measured - (Form == LagrangianForm.Chance ? Options.ViolationTarget : Options.Threshold);
        _state = Options.LambdaUpdate switch
        {
            LambdaUpdate.DualAscent => _state with
            {
                Lambda = Clip(_state.Lambda + Options.LambdaLearningRate * error),
                PreviousMeanCost = measured,
            },
            LambdaUpdate.Pid => PidStep(error, measured),
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
        TaskReward(sample) - _state.Lambda * PenalisedCost(sequenceCost, violated);

    private double PenalisedCost(double sequenceCost, bool violated) => Form switch
    {
        LagrangianForm.Expectation => sequenceCost,
        LagrangianForm.Chance when Options.ChanceCost == ChanceCost.Hinge => Math.Max(0.0, sequenceCost - Options.Threshold),
        _ => violated ? 1.0 : 0.0,
    };

    private ObjectiveState PidStep(double error, double measured)
    {
        var gains = Options.Pid;
        var integral = Math.Max(0.0, _state.PidIntegral + error);
        // Only a rising statistic pushes λ up through the derivative term; there is none before the first step.
        var rise = _state.PreviousMeanCost is { } previous ? Math.Max(0.0, measured - previous) : 0.0;
        var lambda = Clip(gains.Proportional * error + gains.Integral * integral + gains.Derivative * rise);
        return new ObjectiveState(lambda, integral, measured);
    }

    private double Clip(double lambda) => Math.Clamp(lambda, 0.0, Options.LambdaMax);
}
