using Distill.Core.Scoring;
using Distill.TeacherService;
using Distill.TeacherService.Backends;
using TorchSharp;

namespace Distill.TeacherService.Tests;

/// <summary>
/// A tiny real TorchSharp language model (random bigram logits) behind the service's backend interface, standing in
/// for the torch backend until the Llama model and checkpoint loader are merged. It counts its forward passes so
/// tests can tell a cache hit from a recomputation and a coalesced batch from one pass per request.
/// </summary>
public sealed class BigramTeacher : ITeacherBackend, ISequenceScorer, IDisposable
{
    private readonly torch.Tensor _logits;
    private readonly TaskCompletionSource _loadGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _forwardPasses;

    public BigramTeacher(int vocabularySize = 97, int maxContext = 64, long seed = 7, bool loaded = true)
    {
        VocabularySize = vocabularySize;
        MaxContext = maxContext;
        Seed = seed;
        var generator = new torch.Generator((ulong)seed);
        _logits = torch.randn([vocabularySize, vocabularySize], generator: generator) * 3;
        if (loaded) _loadGate.SetResult();
    }

    public int VocabularySize { get; }

    public int MaxContext { get; }

    public long Seed { get; }

    public int ForwardPasses => Volatile.Read(ref _forwardPasses);

    /// <summary>Lets a test hold the service in its "loading" state.</summary>
    public void FinishLoading() => _loadGate.TrySetResult();

    public async Task<LoadedTeacher> LoadAsync(CancellationToken cancellationToken)
    {
        await _loadGate.Task.WaitAsync(cancellationToken);
        return new LoadedTeacher(this, LoadedTeacher.Describe(TeacherBackends.Torch, "bigram-test", $"bigram-seed-{Seed}",
            "test-tokenizer", VocabularySize, MaxContext, maxTopK: 20));
    }

    public Task<IReadOnlyList<ScoredCompletion>> ScoreAsync(IReadOnlyList<ScoringItem> batch, int topK, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _forwardPasses);
        using var scope = torch.NewDisposeScope();
        // One pass over every position of every item: context token → next token.
        var previous = batch.SelectMany(item => item.PromptTokenIds.Concat(item.CompletionTokenIds).Skip(item.PromptTokenIds.Length - 1)
            .Take(item.CompletionTokenIds.Length)).Select(id => (long)id).ToArray();
        var targets = batch.SelectMany(item => item.CompletionTokenIds).Select(id => (long)id).ToArray();
        var logProbs = torch.nn.functional.log_softmax(_logits[torch.tensor(previous)], dim: -1);
        var scores = logProbs.gather(1, torch.tensor(targets).unsqueeze(1)).squeeze(1).data<float>().ToArray();
        float[]? topValues = null;
        long[]? topIds = null;
        if (topK > 0)
        {
            var (values, indices) = logProbs.topk(topK, dim: -1);
            topValues = values.data<float>().ToArray();
            topIds = indices.data<long>().ToArray();
        }

        var results = new List<ScoredCompletion>(batch.Count);
        var offset = 0;
        foreach (var item in batch)
        {
            var length = item.CompletionTokenIds.Length;
            var candidates = topK == 0 ? null : Enumerable.Range(offset, length)
                .Select(p => Enumerable.Range(0, topK).Select(j => new TokenLogProb((int)topIds![p * topK + j], topValues![p * topK + j])).ToArray())
                .ToArray();
            results.Add(new ScoredCompletion(scores[offset..(offset + length)], candidates));
            offset += length;
        }
        return Task.FromResult<IReadOnlyList<ScoredCompletion>>(results);
    }

    public void Dispose() => _logits.Dispose();
}
