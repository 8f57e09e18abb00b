namespace Distill.StudentTrainer.Objectives;

/// <summary>How the Lagrangian multiplier λ follows the batch mean cost.</summary>
[System.ComponentModel.TypeConverter(typeof(Distill.Core.Configuration.KebabCaseEnumConverter))]
public enum LambdaUpdate
{
    /// <summary>λ ← clip(λ + η_λ·(Ĉ − d), 0, λ_max).</summary>
    DualAscent,

    /// <summary>λ = clip(K_p·e + K_i·I + K_d·max(0, Ĉ_k − Ĉ_{k−1}), 0, λ_max) with e = Ĉ − d and I ← max(0, I + e).</summary>
    Pid,
}
