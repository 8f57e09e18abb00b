using static TorchSharp.torch;

namespace Distill.StudentTrainer.Objectives;

/// <summary>Token entropy of the policy, logged every step to watch for collapse.</summary>
public static class TokenEntropy
{
    /// <summary>Mean over unmasked positions of H_t = −Σ_v p(v) log p(v), from [B, T, V] logits and a [B, T] mask; no gradient.</summary>
    public static double Mean(Tensor logits, Tensor mask)
    {
        if (logits.dim() != 3 || !logits.shape.Take(2).SequenceEqual(mask.shape))
            throw new ArgumentException("logits must be [B, T, V] and mask [B, T].");

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var logProbs = nn.functional.log_softmax(logits.to(float64), dim: -1);
        var entropy = -(logProbs.exp() * logProbs).sum(dim: -1);
        var weights = mask.to(float64);
        return ((entropy * weights).sum() / weights.sum().clamp_min(1.0)).item<double>();
    }
}
