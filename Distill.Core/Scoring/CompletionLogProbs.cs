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
    private CompletionLogProbs(Tensor logProbs, Tensor mask, Tensor? entropy, float[][][]? candidateLogProbs)
    {
        LogProbs = logProbs;
        Mask = mask;
        Entropy = entropy;
        CandidateLogProbs = candidateLogProbs;
    }

    /// <summary>[B, Tc] float32 log p(completion[t] | prompt, completion[..t]).</summary>
    public Tensor LogProbs { get; }

    /// <summary>[B, Tc] bool, true where column t is a real completion token of row b.</summary>
    public Tensor Mask { get; }

    /// <summary>[B, Tc] float32 entropy of the model's next-token distribution at each completion position, when asked for.</summary>
    public Tensor? Entropy { get; }

    /// <summary>
    /// When candidate ids were given: <c>[item][position][j]</c> = log p(candidateIds[item][position][j]), without
    /// gradient. The top-k exact divergence needs the model's log-probs at the teacher's top-k ids.
    /// </summary>
    public float[][][]? CandidateLogProbs { get; }

    /// <summary>One left-padded forward pass over the batch, with gradient unless the caller disabled it.</summary>
    /// <exception cref="ArgumentException">An empty prompt, an id outside the vocabulary or an item longer than the
    /// model's context; names the item index.</exception>
    /// <param name="policy">The sampler whose log-probs these are: its temperature τ (log-probs of logits/τ) and the
    /// ids it may emit. Training and evaluation pass the sampling policy, so the ratio, the entropy and the cost are of
    /// the distribution that actually drew the tokens.</param>
    public static CompletionLogProbs Compute(LlamaForCausalLM model, IReadOnlyList<ScoringItem> items, SamplerPolicy policy,
        bool withEntropy = false, IReadOnlyList<int[][]>? candidateIds = null)
    {
        using var scope = NewDisposeScope();
        var batch = ScoringBatch.Create(model, items);
        var logDistribution = batch.CompletionLogDistribution(model, policy.Temperature, policy.VocabularyLimit);
        var logProbs = logDistribution.gather(2, batch.Targets.unsqueeze(2)).squeeze(2).masked_fill(batch.Mask.logical_not(), 0);
        Tensor? entropy = null;
        if (withEntropy)
        {
            var entropyPerPosition = -(logDistribution.exp() * logDistribution).sum(-1);
            entropy = entropyPerPosition.masked_fill(batch.Mask.logical_not(), 0).MoveToOuterDisposeScope();
        }
        var candidates = candidateIds is null ? null : GatherCandidates(logDistribution, items, candidateIds);
        return new CompletionLogProbs(logProbs.MoveToOuterDisposeScope(), batch.Mask.MoveToOuterDisposeScope(), entropy, candidates);
    }

    private static float[][][] GatherCandidates(Tensor logDistribution, IReadOnlyList<ScoringItem> items, IReadOnlyList<int[][]> candidateIds)
    {
        if (candidateIds.Count != items.Count)
            throw new ArgumentException($"candidate ids are given for {candidateIds.Count} items, the batch has {items.Count}.", nameof(candidateIds));
        using var noGrad = no_grad();
        using var distribution = logDistribution.detach().cpu();
        int vocabulary = (int)distribution.shape[2];
        var result = new float[items.Count][][];
        for (int row = 0; row < items.Count; row++)
        {
            int length = items[row].CompletionTokenIds.Length;
            if (candidateIds[row].Length != length)
                throw new ArgumentException($"batch item {row}: candidate ids for {candidateIds[row].Length} positions, the completion has {length}.", nameof(candidateIds));
            using var rowDistribution = distribution[row];
            var values = rowDistribution.data<float>();
            result[row] = new float[length][];
            for (int t = 0; t < length; t++)
            {
                var ids = candidateIds[row][t];
                result[row][t] = new float[ids.Length];
                for (int j = 0; j < ids.Length; j++)
                {
                    if (ids[j] < 0 || ids[j] >= vocabulary)
                        throw new ArgumentException($"batch item {row}, position {t}: candidate id {ids[j]} is outside the vocabulary [0, {vocabulary}).", nameof(candidateIds));
                    result[row][t][j] = values[t * vocabulary + ids[j]];
                }
            }
        }
        return result;
    }

    public void Dispose()
    {
        LogProbs.Dispose();
        Mask.Dispose();
        Entropy?.Dispose();
    }
}
