namespace Distill.Core.Divergence;

/// <summary>How the per-token divergence cost c_t to the teacher is estimated (METHOD.md, "Per-token cost").</summary>
public enum CostEstimator
{
    /// <summary>c_t = log π_θ(y_t) − log π_T(y_t): unbiased for the reverse KL, can be negative per token.</summary>
    K1,

    /// <summary>c_t = (r_t − 1) − log r_t with r_t = π_T(y_t)/π_θ(y_t): lower variance, always ≥ 0.</summary>
    K3,

    /// <summary>Exact reverse KL over the teacher's top-k tokens plus one "rest" bucket per distribution.</summary>
    TopKExact,
}
