using static TorchSharp.torch;

namespace Distill.StudentTrainer.Objectives;

/// <summary>The policy-gradient loss shared by every RL objective.</summary>
public static class PolicyGradientLoss
{
    /// <summary>
    /// Loss = −(1 / Σ_i T_i) Σ_i Σ_t A_{i,t}·ρ_{i,t} over unmasked tokens, ρ = exp(logp − oldLogp) with oldLogp detached.
    /// With one inner epoch oldLogp = logp, so ρ = 1 but its gradient is that of A·logp. With <paramref name="clipEpsilon"/>
    /// each term is PPO's min(ρA, clip(ρ, 1 − ε, 1 + ε)A).
    /// </summary>
    /// <param name="logProbs">[B, T] log-probs of the sampled tokens under the current policy (with gradient).</param>
    /// <param name="oldLogProbs">[B, T] log-probs under the policy that sampled them.</param>
    /// <param name="advantages">[B] per sample, or [B, T] per token.</param>
    /// <param name="mask">[B, T], 1 for completion tokens and 0 for padding.</param>
    /// <param name="clipEpsilon">PPO clip ε; null for the plain surrogate.</param>
    /// <returns>A scalar tensor owned by the caller's dispose scope.</returns>
    public static Tensor Compute(Tensor logProbs, Tensor oldLogProbs, Tensor advantages, Tensor mask, double? clipEpsilon)
    {
        if (logProbs.dim() != 2 || !logProbs.shape.SequenceEqual(oldLogProbs.shape) || !logProbs.shape.SequenceEqual(mask.shape))
            throw new ArgumentException("logProbs, oldLogProbs and mask must all be [B, T].");
        if (!(advantages.shape.SequenceEqual(logProbs.shape) || (advantages.dim() == 1 && advantages.shape[0] == logProbs.shape[0])))
            throw new ArgumentException("advantages must be [B] or [B, T].", nameof(advantages));

        using var scope = NewDisposeScope();
        var tokenAdvantages = (advantages.dim() == 1 ? advantages.unsqueeze(1) : advantages).detach().to(logProbs.dtype);
        var ratio = (logProbs - oldLogProbs.detach()).exp();
        var surrogate = ratio * tokenAdvantages;
        if (clipEpsilon is { } epsilon)
            surrogate = minimum(surrogate, ratio.clamp(1.0 - epsilon, 1.0 + epsilon) * tokenAdvantages);

        var weights = mask.to(logProbs.dtype);
        // Σ_i T_i of a batch of empty completions is 0; clamping to 1 gives a zero loss rather than NaN.
        var loss = -(surrogate * weights).sum() / weights.sum().clamp_min(1.0);
        return loss.MoveToOuterDisposeScope();
    }
}
