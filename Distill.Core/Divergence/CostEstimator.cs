namespace Distill.Core.Divergence;

/// <summary>How the per-token divergence cost c_t to the teacher is estimated (METHOD.md, "Per-token cost").</summary>
[System.ComponentModel.TypeConverter(typeof(Distill.Core.Configuration.KebabCaseEnumConverter))]
public enum CostEstimator
{
    /// <summary>c_t = log π_θ(y_t) − log π_T(y_t): unbiased for the reverse KL, can be negative per token.</summary>
    K1,

    /// <summary>c_t = (r_t − 1) − log r_t with r_t = π_T(y_t)/π_θ(y_t): lower variance, always ≥ 0.</summary>
    K3,

    /// <summary>Exact reverse KL over the teacher's top-k tokens plus one "rest" bucket per distribution.</summary>
    TopKExact,

    /// <summary>
    /// The full-vocabulary reverse KL at each visited prefix: top-k exact with k = the whole vocabulary, so the rest
    /// buckets hold nothing but a padded config's never-sampled ids. Same expectation as k1's sum, far less variance;
    /// needs the teacher's whole distribution, affordable for small vocabularies.
    /// </summary>
    Exact,
}

/// <summary>What each <see cref="CostEstimator"/> is called on the command line and in reports, and what it asks of the teacher.</summary>
public static class CostEstimators
{
    /// <summary>The spellings, in order of increasing fidelity.</summary>
    public static readonly IReadOnlyList<(string Spelling, CostEstimator Estimator)> All =
        [.. Enum.GetValues<CostEstimator>().Select(estimator => (estimator.Spelling(), estimator))];

    public static string Spelling(this CostEstimator estimator) => Configuration.KebabCaseEnum.Spelling(estimator);

    /// <summary>Reads "top-k-exact", "TopKExact" or "top_k_exact" alike (run.json files of older versions hold the enum names).</summary>
    public static bool TryParse(string? text, out CostEstimator estimator) => Configuration.KebabCaseEnum.TryParse(text, out estimator);

    /// <summary>Whether the estimator needs the teacher's candidates (its top-k, or its whole distribution).</summary>
    public static bool NeedsTeacherCandidates(this CostEstimator estimator) => estimator is CostEstimator.TopKExact or CostEstimator.Exact;

    /// <summary>How many candidates per position to ask the teacher for: k, the whole vocabulary, or none.</summary>
    public static int TeacherTopK(this CostEstimator estimator, int topK, int vocabularySize) => estimator switch
    {
        CostEstimator.TopKExact => topK,
        CostEstimator.Exact => vocabularySize,
        _ => 0,
    };
}
