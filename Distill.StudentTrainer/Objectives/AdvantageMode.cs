namespace Distill.StudentTrainer.Objectives;

/// <summary>How shaped rewards of one prompt's group of samples become advantages.</summary>
public enum AdvantageMode
{
    /// <summary>A_i = (R̃_i − mean) / (std + ε) (GRPO).</summary>
    GroupNormalized,

    /// <summary>A_i = R̃_i − mean_{j≠i} R̃_j (RLOO).</summary>
    LeaveOneOut,
}
