namespace Distill.Core.Scoring;

/// <summary>
/// The student's policy as the sampler defines it: π_θ^τ(·|s) = softmax(z_θ(s)/τ) over the ids the tokenizer has
/// (<see cref="VocabularyLimit"/>; null: every id of the model). Top-p truncation is not part of it: log-probs are of
/// the untruncated tempered distribution (docs/method.md says why that is acceptable).
/// </summary>
public sealed record SamplerPolicy(double Temperature = 1.0, int? VocabularyLimit = null)
{
    /// <summary>The model's own distribution at τ = 1 over all of its ids: the teacher's, and the greedy reference.</summary>
    public static SamplerPolicy Untempered { get; } = new();

    /// <summary>The policy of a sampler at <paramref name="temperature"/>; greedy decoding (τ = 0) is described by τ = 1.</summary>
    public static SamplerPolicy Of(double temperature, int? vocabularyLimit) =>
        new(temperature > 0 ? temperature : 1.0, vocabularyLimit);
}
