namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// What an objective carries from step to step and a checkpoint must save: the multiplier λ, the PID integral I and
/// the previous batch mean cost Ĉ_{k−1} (null before the first step). A plain record, so it serialises as JSON.
/// </summary>
public sealed record ObjectiveState(double Lambda = 0.0, double PidIntegral = 0.0, double? PreviousMeanCost = null)
{
    /// <summary>The state of an objective that keeps none.</summary>
    public static readonly ObjectiveState Stateless = new();
}
