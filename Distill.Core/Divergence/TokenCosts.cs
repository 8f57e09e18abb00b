namespace Distill.Core.Divergence;

/// <summary>
/// Per-token divergence costs c_t of a completion to the teacher. Costs are rewards, so they are computed on plain
/// arrays without gradient, in double precision.
/// </summary>
public static class TokenCosts
{
    /// <summary>
    /// Smallest teacher "rest" mass used in top-k exact. Float32 log-probs of a top-k that holds (almost) all of the
    /// teacher's mass can sum past one by rounding; flooring the rest keeps log(rest) finite instead of −∞.
    /// </summary>
    public const double MinimumRestMass = 1e-8;

    /// <summary>Computes the costs with <paramref name="estimator"/>.</summary>
    /// <exception cref="ArgumentException">The inputs that estimator needs are missing or of mismatched lengths.</exception>
    public static double[] Compute(CostEstimator estimator, TokenCostInputs inputs) => estimator switch
    {
        CostEstimator.K1 => K1(inputs.StudentLogProbs, inputs.TeacherLogProbs),
        CostEstimator.K3 => K3(inputs.StudentLogProbs, inputs.TeacherLogProbs),
        CostEstimator.TopKExact or CostEstimator.Exact => TopKExact(
            inputs.StudentLogProbsAtTeacherTopK ?? throw new ArgumentException($"{estimator} needs the student's log-probs at the teacher's top-k ids.", nameof(inputs)),
            inputs.TeacherTopKLogProbs ?? throw new ArgumentException($"{estimator} needs the teacher's top-k log-probs.", nameof(inputs))),
        _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "unknown cost estimator."),
    };

    /// <summary>k1: c_t = log π_θ(y_t) − log π_T(y_t).</summary>
    public static double[] K1(ReadOnlySpan<float> studentLogProbs, ReadOnlySpan<float> teacherLogProbs)
    {
        RequireSameLength(studentLogProbs.Length, teacherLogProbs.Length);
        var costs = new double[studentLogProbs.Length];
        for (var t = 0; t < costs.Length; t++)
            costs[t] = (double)studentLogProbs[t] - teacherLogProbs[t];
        return costs;
    }

    /// <summary>k3: c_t = (r_t − 1) − log r_t with log r_t = log π_T(y_t) − log π_θ(y_t).</summary>
    public static double[] K3(ReadOnlySpan<float> studentLogProbs, ReadOnlySpan<float> teacherLogProbs)
    {
        RequireSameLength(studentLogProbs.Length, teacherLogProbs.Length);
        var costs = new double[studentLogProbs.Length];
        for (var t = 0; t < costs.Length; t++)
        {
            var logRatio = (double)teacherLogProbs[t] - studentLogProbs[t];
            costs[t] = Math.Exp(logRatio) - 1.0 - logRatio;
        }
        return costs;
    }

    /// <summary>Top-k exact for every position of a completion; see <see cref="TopKExactAt"/>.</summary>
    public static double[] TopKExact(IReadOnlyList<float[]> studentLogProbsAtTeacherTopK, IReadOnlyList<float[]> teacherTopKLogProbs)
    {
        RequireSameLength(studentLogProbsAtTeacherTopK.Count, teacherTopKLogProbs.Count);
        var costs = new double[teacherTopKLogProbs.Count];
        for (var t = 0; t < costs.Length; t++)
            costs[t] = TopKExactAt(studentLogProbsAtTeacherTopK[t], teacherTopKLogProbs[t]);
        return costs;
    }

    /// <summary>
    /// Reverse KL between the student and the teacher coarsened to k + 1 buckets: the teacher's top-k ids, and one
    /// bucket for everything else. c = Σ_{v∈K} p_θ(v)(log p_θ(v) − log p_T(v)) + p_θ(rest)(log p_θ(rest) − log p_T(rest)).
    /// Coarsening never increases a KL, so this is ≥ 0 and at most the full reverse KL.
    /// </summary>
    public static double TopKExactAt(ReadOnlySpan<float> studentLogProbsAtTeacherTopK, ReadOnlySpan<float> teacherTopKLogProbs)
    {
        RequireSameLength(studentLogProbsAtTeacherTopK.Length, teacherTopKLogProbs.Length);
        double studentTopMass = 0, teacherTopMass = 0, cost = 0;
        for (var i = 0; i < teacherTopKLogProbs.Length; i++)
        {
            double studentLogProb = studentLogProbsAtTeacherTopK[i], teacherLogProb = teacherTopKLogProbs[i];
            var studentProb = Math.Exp(studentLogProb);
            studentTopMass += studentProb;
            teacherTopMass += Math.Exp(teacherLogProb);
            cost += studentProb * (studentLogProb - teacherLogProb);
        }

        var studentRest = 1.0 - studentTopMass;
        var teacherRest = Math.Max(MinimumRestMass, 1.0 - teacherTopMass);
        // 0·log 0 = 0: a student with no mass outside the teacher's top-k adds nothing for the rest bucket.
        if (studentRest > 0)
            cost += studentRest * (Math.Log(studentRest) - Math.Log(teacherRest));
        return cost;
    }

    private static void RequireSameLength(int student, int teacher)
    {
        if (student != teacher)
            throw new ArgumentException($"student and teacher inputs differ in length ({student} vs {teacher}).");
    }
}
