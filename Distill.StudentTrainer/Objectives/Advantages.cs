namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// Per-token advantages of a whole batch of groups (one group per prompt, G samples each) from their shaped returns.
/// A_{i,t} = (G_{i,t} − b_i) / s, where the baseline b_i and the scale s depend on the <see cref="AdvantageMode"/> and are
/// computed from the whole-trajectory returns R̃_j = G_{j,0}. For a trajectory-level reward G_{i,t} = R̃_i, so this is the
/// familiar A_i repeated over the sample's tokens; per-token forms keep their returns-to-go, so tokens before a budget
/// crossing are not blamed for it.
/// </summary>
public static class Advantages
{
    /// <summary>ε in the denominators std + ε.</summary>
    public const double Epsilon = 1e-6;

    /// <summary>Advantages [group][sample][token], in the layout of <paramref name="groups"/>.</summary>
    public static double[][][] Compute(IReadOnlyList<IReadOnlyList<ShapedSample>> groups, AdvantageMode mode)
    {
        var batchScale = mode == AdvantageMode.BatchStd
            ? Std(groups.SelectMany(group => group.Select(sample => sample.ShapedReward)).ToArray()) + Epsilon
            : 1.0;
        var batchPenaltyMean = mode == AdvantageMode.GroupRewardBatchPenalty && groups.Any(group => group.Count > 0)
            ? groups.SelectMany(group => group.Select(sample => sample.Penalty)).Average()
            : 0.0;
        return groups.Select(group => ForGroup(group, mode, batchScale, batchPenaltyMean)).ToArray();
    }

    /// <summary>The share of groups whose task rewards are all equal: there, a group-normalised update sees only the penalty's shape, never its scale.</summary>
    public static double EqualTaskRewardShare(IReadOnlyList<IReadOnlyList<SampleOutcome>> groups) =>
        groups.Count == 0 ? 0.0 : groups.Count(group => group.All(sample => sample.TaskReward == group[0].TaskReward)) / (double)groups.Count;

    /// <summary>
    /// Of the samples that broke their budget, the share whose whole group broke it (0 when none did). There a penalty
    /// that is the same for every violation (the chance Lagrangian's λ, <c>cmdp</c>'s n) is also the group mean, and the
    /// baseline cancels it: only groups whose samples split across d tell the policy that violating costs something.
    /// </summary>
    public static double WholeGroupViolationShare(IReadOnlyList<IReadOnlyList<ShapedSample>> groups)
    {
        int violations = groups.Sum(group => group.Count(sample => sample.Violated));
        int inWholeGroups = groups.Where(group => group.All(sample => sample.Violated)).Sum(group => group.Count);
        return violations == 0 ? 0.0 : inWholeGroups / (double)violations;
    }

    /// <summary>The share of groups whose samples split across the budget (some broke it, some did not): the groups in which a step-function penalty separates samples.</summary>
    public static double SplitViolationGroupShare(IReadOnlyList<IReadOnlyList<ShapedSample>> groups) =>
        groups.Count == 0 ? 0.0
            : groups.Count(group => group.Any(sample => sample.Violated) && !group.All(sample => sample.Violated)) / (double)groups.Count;

    private static double[][] ForGroup(IReadOnlyList<ShapedSample> group, AdvantageMode mode, double batchScale, double batchPenaltyMean)
    {
        if (mode == AdvantageMode.GroupRewardBatchPenalty)
            return WithBatchPenaltyBaseline(group, batchPenaltyMean);

        var returns = group.Select(sample => sample.ShapedReward).ToArray();
        bool trajectoryLevel = group.All(sample => sample.ReturnsToGo.All(value => value == sample.ShapedReward));
        // Equal trajectory-level rewards carry no signal: exactly zero, not the rounding of a non-dyadic mean divided by ε.
        if (trajectoryLevel && returns.All(value => value == returns[0]))
            return group.Select(sample => new double[sample.ReturnsToGo.Length]).ToArray();

        var count = returns.Length;
        var mean = returns.Average();
        var std = Std(returns);
        return group.Select((sample, i) =>
        {
            var (baseline, scale) = mode switch
            {
                AdvantageMode.GroupStd => (mean, std > 0 ? std + Epsilon : 1.0),
                AdvantageMode.GroupMean => (mean, 1.0),
                AdvantageMode.BatchStd => (mean, batchScale),
                AdvantageMode.LeaveOneOut => (count > 1 ? (mean * count - returns[i]) / (count - 1) : 0.0, 1.0),
                _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown advantage mode."),
            };
            return sample.ReturnsToGo.Select(value => (value - baseline) / scale).ToArray();
        }).ToArray();
    }

    // G_t − (group mean of R + batch mean of P), written as (G_t − R̃_i) + (R_i − mean R) + (P_i − mean P) so that each term
    // that should vanish does so exactly: equal task rewards and no penalty give exactly zero, as in the group-mean mode.
    private static double[][] WithBatchPenaltyBaseline(IReadOnlyList<ShapedSample> group, double batchPenaltyMean)
    {
        if (group.Count == 0)
            return [];
        var taskRewardMean = group.Average(sample => sample.TaskReward);
        var equalTaskRewards = group.All(sample => sample.TaskReward == group[0].TaskReward);
        return group.Select(sample =>
        {
            var taskTerm = equalTaskRewards ? 0.0 : sample.TaskReward - taskRewardMean;
            var penaltyTerm = sample.Penalty - batchPenaltyMean;
            return sample.ReturnsToGo.Select(value => value - sample.ShapedReward + taskTerm + penaltyTerm).ToArray();
        }).ToArray();
    }

    // The population standard deviation; no values gives 0.
    private static double Std(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            return 0.0;
        var mean = values.Average();
        return Math.Sqrt(values.Sum(value => (value - mean) * (value - mean)) / values.Count);
    }
}
