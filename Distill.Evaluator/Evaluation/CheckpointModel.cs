using Distill.Core.Scoring;
using Distill.Core.Tokenization;

namespace Distill.Evaluator.Evaluation;

/// <summary>How completions are decoded: greedy, or sampled at a temperature.</summary>
public sealed record Decoding(double? Temperature)
{
    public static Decoding Greedy { get; } = new((double?)null);

    public static Decoding Sampled(double temperature) => new(temperature);
}

/// <summary>A language model loaded from a checkpoint directory, as the evaluator uses it: generate, then score.</summary>
public interface ICheckpointModel : IDisposable
{
    ITextTokenizer Tokenizer { get; }

    /// <summary>Scores completions under this model (the student's own log-probs of its samples).</summary>
    ISequenceScorer Scorer { get; }

    /// <summary>Completion token ids (EOS excluded) for each prompt, in batches of <paramref name="batchSize"/>; sampling is seeded.</summary>
    Task<int[][]> GenerateAsync(IReadOnlyList<int[]> prompts, Decoding decoding, int maxNewTokens, int seed, int batchSize, CancellationToken cancellationToken);

    /// <summary>This model's log-probs, at each completion position, of the given candidate ids (top-k exact needs them at the teacher's top-k).</summary>
    Task<float[][]> LogProbsAtAsync(ScoringItem item, IReadOnlyList<TokenLogProb[]> candidates, CancellationToken cancellationToken);
}

/// <summary>Loads checkpoint directories; a missing or corrupt one throws an exception whose message names the file and the fault.</summary>
public interface ICheckpointModelLoader
{
    ICheckpointModel Load(string directory);
}
