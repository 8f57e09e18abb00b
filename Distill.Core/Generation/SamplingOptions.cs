namespace Distill.Core.Generation;

/// <summary>How to pick each new token.</summary>
public sealed record SamplingOptions
{
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>0 picks the most likely token (greedy); otherwise logits are divided by it before sampling.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Nucleus sampling: only the most likely tokens whose probabilities sum to at least this are kept; 1 keeps all.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>A row stops after emitting one of these; the stop token is kept as its last completion token.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Seeds the sampler so the same inputs give the same tokens; null draws a fresh seed.</summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Only ids below this are ever sampled: the tokenizer's vocabulary size, when the model's config pads its
    /// vocabulary beyond the real tokens (Qwen2.5: 151,936 rows for 151,665 tokens). Null: every id of the model.
    /// </summary>
    public int? VocabularyLimit { get; init; }

    /// <summary>False recomputes the whole prefix every step: slower, kept for benchmarks and as a test oracle.</summary>
    public bool UseKvCache { get; init; } = true;

    /// <exception cref="ArgumentException">Names the first invalid option.</exception>
    public void Validate()
    {
        if (MaxNewTokens < 0)
            throw new ArgumentException($"{nameof(MaxNewTokens)} must be >= 0, got {MaxNewTokens}.", nameof(MaxNewTokens));
        if (!(Temperature >= 0) || float.IsInfinity(Temperature))
            throw new ArgumentException($"{nameof(Temperature)} must be a finite number >= 0, got {Temperature}.", nameof(Temperature));
        if (!(TopP > 0 && TopP <= 1))
            throw new ArgumentException($"{nameof(TopP)} must be in (0, 1], got {TopP}.", nameof(TopP));
    }
}

/// <summary>
/// One prompt's new tokens, and the log-probability of each under the sampler's policy
/// (<c>SamplerPolicy.Of(Temperature, VocabularyLimit)</c>: logits/τ over the allowed ids; τ = 1 for greedy; top-p not applied).
/// <see cref="Stopped"/>: it ended on a stop token rather than at the token limit.
/// </summary>
public sealed record GeneratedCompletion(int[] TokenIds, float[] LogProbs, bool Stopped);
