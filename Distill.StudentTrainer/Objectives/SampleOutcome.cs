namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// One sampled completion as an objective sees it: the task reward R ∈ {0, 1}, whether a final-answer marker was
/// present (for the format bonus), and its per-token costs c_t to the teacher (one per completion token).
/// </summary>
public sealed record SampleOutcome(double TaskReward, bool HasAnswerMarker, double[] TokenCosts);

/// <summary>
/// What an objective made of one sample: its sequence cost C, whether it broke the budget (under the run's scope), its
/// shaped return-to-go G_t for every token, and its task reward. A trajectory-level reward R̃ is paid on the last token,
/// so G_t = R̃ for every t; per-token forms pay along the way. <see cref="ShapedReward"/> is the whole return G_0.
/// <see cref="TaskReward"/> is what the sample would earn with no budget and no divergence term, R (+ b), or 0 for
/// distill, which has no task reward: R̃ − <see cref="TaskReward"/> is what the budget or the divergence added, the part
/// the <see cref="AdvantageMode.GroupRewardBatchPenalty"/> baseline centres over the whole batch.
/// </summary>
public sealed record ShapedSample(double SequenceCost, bool Violated, double ShapedReward, double[] ReturnsToGo, double TaskReward)
{
    /// <summary>R̃ − R: the penalty the budget or the divergence added to the task reward (≤ 0 in every objective here).</summary>
    public double Penalty => ShapedReward - TaskReward;

    /// <summary>A trajectory-level R̃ for a completion of <paramref name="length"/> tokens.</summary>
    public static ShapedSample Trajectory(double sequenceCost, bool violated, double shapedReward, int length, double taskReward) =>
        new(sequenceCost, violated, shapedReward, Enumerable.Repeat(shapedReward, length).ToArray(), taskReward);

    /// <summary>Per-token rewards r̃_t: G_t = Σ_{u≥t} r̃_u, and R̃ = G_0 (0 for an empty completion).</summary>
    public static ShapedSample PerToken(double sequenceCost, bool violated, ReadOnlySpan<double> tokenRewards, double taskReward)
    {
        var returns = new double[tokenRewards.Length];
        var toGo = 0.0;
        for (var t = tokenRewards.Length - 1; t >= 0; t--)
        {
            toGo += tokenRewards[t];
            returns[t] = toGo;
        }
        return new ShapedSample(sequenceCost, violated, returns.Length == 0 ? 0.0 : returns[0], returns, taskReward);
    }
}
