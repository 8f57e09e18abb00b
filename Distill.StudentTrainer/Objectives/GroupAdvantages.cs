namespace Distill.StudentTrainer.Objectives;

/// <summary>Advantages of one prompt's group of G samples from their shaped rewards.</summary>
public static class GroupAdvantages
{
    /// <summary>ε in the group-normalised denominator std + ε.</summary>
    public const double Epsilon = 1e-6;

    /// <summary>
    /// Group-normalised A_i = (R̃_i − mean) / (std + ε) with the population std, or leave-one-out A_i = R̃_i − mean_{j≠i} R̃_j.
    /// A group whose rewards are all equal carries no signal and gets exactly zero advantages: the mean of equal
    /// non-dyadic values (0.1, 0.1, 0.1) is not exactly 0.1 in floating point, and that rounding divided by ε would not be.
    /// </summary>
    public static double[] Compute(IReadOnlyList<double> shapedRewards, AdvantageMode mode)
    {
        var count = shapedRewards.Count;
        if (count == 0 || shapedRewards.All(reward => reward == shapedRewards[0]))
            return new double[count];

        var mean = shapedRewards.Average();
        return mode switch
        {
            AdvantageMode.GroupNormalized => Normalized(shapedRewards, mean),
            AdvantageMode.LeaveOneOut => LeaveOneOut(shapedRewards, mean * count),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown advantage mode."),
        };
    }

    /// <summary>Per-token reward-to-go of the distill objective: A_t = −Σ_{u≥t} c_u.</summary>
    public static double[] NegativeCostToGo(ReadOnlySpan<double> tokenCosts)
    {
        var advantages = new double[tokenCosts.Length];
        var costToGo = 0.0;
        for (var t = tokenCosts.Length - 1; t >= 0; t--)
        {
            costToGo += tokenCosts[t];
            advantages[t] = -costToGo;
        }
        return advantages;
    }

    private static double[] Normalized(IReadOnlyList<double> rewards, double mean)
    {
        var variance = rewards.Sum(reward => (reward - mean) * (reward - mean)) / rewards.Count;
        var scale = Math.Sqrt(variance) + Epsilon;
        return rewards.Select(reward => (reward - mean) / scale).ToArray();
    }

    // Only reached with at least two distinct rewards, so count − 1 ≥ 1.
    private static double[] LeaveOneOut(IReadOnlyList<double> rewards, double total) =>
        rewards.Select(reward => reward - (total - reward) / (rewards.Count - 1)).ToArray();
}
