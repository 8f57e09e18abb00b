using Distill.Core.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Scoring;

/// <summary>Scores completions with a local TorchSharp model: one forward pass per batch, no gradient.</summary>
public sealed class ModelScorer(LlamaForCausalLM model) : ISequenceScorer
{
    public int VocabularySize => model.Config.VocabSize;

    public int MaxContext => model.Config.MaxPositionEmbeddings;

    /// <exception cref="ArgumentException">Invalid ids, lengths or <paramref name="topK"/>; names the item index.</exception>
    public Task<IReadOnlyList<ScoredCompletion>> ScoreAsync(IReadOnlyList<ScoringItem> batch, int topK, CancellationToken cancellationToken = default)
    {
        if (topK < 0 || topK > VocabularySize)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"top-k must be in [0, {VocabularySize}].");
        cancellationToken.ThrowIfCancellationRequested();
        if (batch.Count == 0)
            return Task.FromResult<IReadOnlyList<ScoredCompletion>>([]);

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var layout = ScoringBatch.Create(model, batch);
        // log p(v) = logit(v) − logsumexp(logits): the chosen token's and the top-k's, without a [B, C, V] log-softmax copy.
        var logits = layout.CompletionLogits(model);
        int width = layout.CompletionLength;
        var normalizer = logits.logsumexp(-1, keepdim: true);
        // TorchSharp's ToArray throws on an empty tensor, hence the guard for a batch of empty completions.
        var logProbs = width == 0 ? [] : (logits.gather(2, layout.Targets.unsqueeze(2)) - normalizer).squeeze(2).cpu().data<float>().ToArray();

        float[]? topValues = null;
        long[]? topIds = null;
        if (topK > 0 && width > 0)
        {
            var (values, indices) = logits.topk(topK, dim: -1);
            topValues = (values - normalizer).cpu().data<float>().ToArray();
            topIds = indices.cpu().data<long>().ToArray();
        }

        var results = new ScoredCompletion[batch.Count];
        for (int row = 0; row < batch.Count; row++)
        {
            int length = batch[row].CompletionTokenIds.Length;
            var rowLogProbs = logProbs.AsSpan(row * width, length).ToArray();
            TokenLogProb[][]? rowTopK = topK == 0 ? null : new TokenLogProb[length][];
            for (int t = 0; rowTopK is not null && t < length; t++)
            {
                int offset = (row * width + t) * topK;
                rowTopK[t] = Enumerable.Range(offset, topK).Select(i => new TokenLogProb((int)topIds![i], topValues![i])).ToArray();
            }
            results[row] = new ScoredCompletion(rowLogProbs, rowTopK);
        }
        return Task.FromResult<IReadOnlyList<ScoredCompletion>>(results);
    }
}
