namespace Distill.Core.Scoring;

/// <summary>One sequence to score: the prompt is context only; log-probs are returned for the completion tokens.</summary>
public sealed record ScoringItem(int[] PromptTokenIds, int[] CompletionTokenIds);

/// <summary>A candidate token and its log-probability at one position.</summary>
public readonly record struct TokenLogProb(int TokenId, float LogProb);

/// <summary>
/// Per-token log-probs of one completion: <c>LogProbs[t] = log p(completion[t] | prompt, completion[..t])</c>,
/// and, when asked for, the top-k candidates of each position (most likely first).
/// </summary>
public sealed record ScoredCompletion(float[] LogProbs, TokenLogProb[][]? TopK);

/// <summary>Anything that can score completions under a language model: a TorchSharp model, ONNX Runtime, a remote server.</summary>
public interface ISequenceScorer
{
    int VocabularySize { get; }

    /// <summary>Longest prompt + completion, in tokens, that one item may have.</summary>
    int MaxContext { get; }

    /// <summary>Scores a batch in as few forward passes as the implementation can; <paramref name="topK"/> 0 means none.</summary>
    Task<IReadOnlyList<ScoredCompletion>> ScoreAsync(IReadOnlyList<ScoringItem> batch, int topK, CancellationToken cancellationToken = default);
}
