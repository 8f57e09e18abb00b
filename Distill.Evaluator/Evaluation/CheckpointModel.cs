using Distill.Core.Generation;
using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.Core.Tokenization;
using Distill.Core.Torch;
using static TorchSharp.torch;

namespace Distill.Evaluator.Evaluation;

/// <summary>
/// A checkpoint directory loaded for evaluation: its tokenizer and its model, with the batched generator. The
/// generator returns each sampled token's log-prob under the sampler's policy (logits/τ over the tokenizer's ids), the
/// student's side of the k1 and k3 costs; the exact estimators need one more forward pass (<see cref="CandidateLogProbs"/>).
/// </summary>
public sealed class CheckpointModel : IDisposable
{
    private readonly LlamaForCausalLM model;
    private readonly CompletionGenerator generator;

    private CheckpointModel(ITextTokenizer tokenizer, LlamaForCausalLM model)
    {
        Tokenizer = tokenizer;
        this.model = model;
        generator = new CompletionGenerator(model);
    }

    public ITextTokenizer Tokenizer { get; }

    /// <summary>Loads the tokenizer and the weights; a missing or corrupt checkpoint throws with the directory and the fault named.</summary>
    public static CheckpointModel Load(string directory, string device)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"checkpoint {directory}: no such directory.");
        var tokenizer = TokenizerLoader.Load(directory);
        var (config, model) = ModelCheckpoint.Load(directory, TorchDevice.Resolve(device));
        if (tokenizer.VocabularySize > config.VocabSize)
        {
            model.Dispose();
            throw new InvalidDataException($"checkpoint {directory}: its tokenizer has {tokenizer.VocabularySize} tokens, its model only {config.VocabSize}.");
        }
        model.eval();
        return new CheckpointModel(tokenizer, model);
    }

    /// <summary>
    /// Completions for each prompt, <paramref name="batchSize"/> prompts at a time; temperature 0 is greedy. Each
    /// completion ends with EOS when it stopped, as in training, so the teacher scores the same tokens the trainer does.
    /// </summary>
    public IReadOnlyList<GeneratedCompletion> Generate(
        IReadOnlyList<int[]> prompts, float temperature, int maxNewTokens, int seed, int batchSize, CancellationToken cancellationToken)
    {
        var completions = new List<GeneratedCompletion>(prompts.Count);
        for (var start = 0; start < prompts.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = prompts.Skip(start).Take(batchSize).ToArray();
            var options = new SamplingOptions
            {
                MaxNewTokens = maxNewTokens,
                Temperature = temperature,
                StopTokenIds = [Tokenizer.EosTokenId],
                VocabularyLimit = Tokenizer.VocabularySize,
                // One seed per batch, derived from the evaluation's: the same checkpoint gives the same samples.
                Seed = seed + start,
            };
            completions.AddRange(generator.Generate(batch, Tokenizer.PadTokenId, options, cancellationToken));
        }
        return completions;
    }

    /// <summary>
    /// The sampler's log-probs at the given candidate ids of every position ([item][position][j]), in batches of
    /// <paramref name="batchSize"/>, without gradient: the student's side of the exact and top-k exact costs.
    /// </summary>
    public float[][][] CandidateLogProbs(IReadOnlyList<ScoringItem> items, SamplerPolicy policy, IReadOnlyList<int[][]> candidateIds, int batchSize)
    {
        using var noGrad = no_grad();
        var result = new List<float[][]>(items.Count);
        for (var start = 0; start < items.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, items.Count - start);
            using var scores = CompletionLogProbs.Compute(model, items.Skip(start).Take(count).ToArray(), policy,
                candidateIds: candidateIds.Skip(start).Take(count).ToArray());
            result.AddRange(scores.CandidateLogProbs!);
        }
        return [.. result];
    }

    public void Dispose() => model.Dispose();
}
