using Distill.Core.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Scoring;

/// <summary>
/// Per-token log-probabilities of completions under a model, as tensors that keep their autograd graph, for training
/// losses. Row b, column t is completion token t of item b; columns past an item's completion are padding (mask false,
/// log-prob and entropy 0). The tensors belong to the caller's dispose scope, or to <see cref="Dispose"/>.
/// </summary>
public sealed class CompletionLogProbs : IDisposable
{
    private CompletionLogProbs(Tensor logProbs, Tensor mask, Tensor? entropy)
    {
        LogProbs = logProbs;
        Mask = mask;
        Entropy = entropy;
    }

    /// <summary>[B, Tc] float32 log p(completion[t] | prompt, completion[..t]).</summary>
    public Tensor LogProbs { get; }

    /// <summary>[B, Tc] bool, true where column t is a real completion token of row b.</summary>
    public Tensor Mask { get; }

    /// <summary>[B, Tc] float32 entropy of the model's next-token distribution at each completion position, when asked for.</summary>
    public Tensor? Entropy { get; }

    /// <summary>One left-padded forward pass over the batch, with gradient unless the caller disabled it.</summary>
    /// <exception cref="ArgumentException">An empty prompt, an id outside the vocabulary or an item longer than the
    /// model's context; names the item index.</exception>
    public static CompletionLogProbs Compute(LlamaForCausalLM model, IReadOnlyList<ScoringItem> items, bool withEntropy = false)
    {
        using var scope = NewDisposeScope();
        var batch = ScoringBatch.Create(model, items);
        var logDistribution = batch.CompletionLogDistribution(model);
        var logProbs = logDistribution.gather(2, batch.Targets.unsqueeze(2)).squeeze(2).masked_fill(batch.Mask.logical_not(), 0);
        Tensor? entropy = null;
        if (withEntropy)
        {
            var entropyPerPosition = -(logDistribution.exp() * logDistribution).sum(-1);
            entropy = entropyPerPosition.masked_fill(batch.Mask.logical_not(), 0).MoveToOuterDisposeScope();
        }
        return new CompletionLogProbs(logProbs.MoveToOuterDisposeScope(), batch.Mask.MoveToOuterDisposeScope(), entropy);
    }

    public void Dispose()
    {
        LogProbs.Dispose();
        Mask.Dispose();
        Entropy?.Dispose();
    }
}
