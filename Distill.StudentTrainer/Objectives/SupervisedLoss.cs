using static TorchSharp.torch;

namespace Distill.StudentTrainer.Objectives;

/// <summary>The sft loss: the mean negative log-likelihood of the reference tokens.</summary>
public static class SupervisedLoss
{
    /// <summary>−(1 / Σ_i T_i) Σ_i Σ_t logp_{i,t} over unmasked tokens; <paramref name="logProbs"/> and <paramref name="mask"/> are [B, T].</summary>
    public static Tensor Compute(Tensor logProbs, Tensor mask)
    {
        if (!logProbs.shape.SequenceEqual(mask.shape))
            throw new ArgumentException("logProbs and mask must have the same [B, T] shape.");

        using var scope = NewDisposeScope();
        var weights = mask.to(logProbs.dtype);
        var loss = -(logProbs * weights).sum() / weights.sum().clamp_min(1.0);
        return loss.MoveToOuterDisposeScope();
    }
}
