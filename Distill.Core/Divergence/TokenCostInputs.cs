namespace Distill.Core.Divergence;

/// <summary>
/// What the cost estimators read for one completion of T tokens.
/// <para><see cref="StudentLogProbs"/>[t] and <see cref="TeacherLogProbs"/>[t] are the log-probs of the sampled token y_t
/// (k1, k3). For top-k exact, <see cref="TeacherTopKLogProbs"/>[t] holds the teacher's log-probs of its own top-k ids K_t
/// and <see cref="StudentLogProbsAtTeacherTopK"/>[t] the student's log-probs of those same ids, in the same order.
/// Nothing else is needed: both distributions sum to one, so each "rest" bucket's mass is one minus the top-k mass.</para>
/// </summary>
public sealed record TokenCostInputs(
    float[] StudentLogProbs,
    float[] TeacherLogProbs,
    float[][]? StudentLogProbsAtTeacherTopK = null,
    float[][]? TeacherTopKLogProbs = null);
