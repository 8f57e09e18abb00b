namespace Distill.StudentTrainer.Objectives;

/// <summary>How shaped returns become advantages (docs/method.md, "Advantages and loss").</summary>
[System.ComponentModel.TypeConverter(typeof(Distill.Core.Configuration.KebabCaseEnumConverter))]
public enum AdvantageMode
{
    /// <summary>A_i = (R̃_i − mean) / (std + ε) within the prompt's group (GRPO). A penalty's scale cancels in a group whose task rewards are equal.</summary>
    [Distill.Core.Configuration.AlsoSpelled("group-normalized")] // the name of earlier versions
    GroupStd,

    /// <summary>A_i = R̃_i − mean within the group (Dr. GRPO): every scale (λ₀, n, κ) keeps its meaning.</summary>
    GroupMean,

    /// <summary>A_i = (R̃_i − group mean) / (std of R̃ over the whole batch + ε): one scale for the batch, so scales keep their relative meaning.</summary>
    BatchStd,

    /// <summary>A_i = R̃_i − mean_{j≠i} R̃_j (RLOO).</summary>
    LeaveOneOut,

    /// <summary>
    /// A_i = (R_i − group mean of R) + (P_i − batch mean of P), where R̃ = R + P splits into the task reward R and the
    /// penalty P the budget or the divergence adds: the task reward is centred within its prompt's group, as in
    /// <see cref="GroupMean"/>, the penalty over the whole batch, so a penalty every sample of a group pays is not
    /// cancelled by the group's mean. With no penalty it is <see cref="GroupMean"/>.
    /// </summary>
    GroupRewardBatchPenalty,
}
