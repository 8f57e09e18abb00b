using Distill.Core.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Generation;

/// <summary>
/// Batched decoding: prompts are left-padded into one batch and all rows advance together, with the KV cache feeding
/// only the newest token each step. Rows that have stopped keep receiving masked-out padding until all are done.
/// </summary>
public sealed class CompletionGenerator(LlamaForCausalLM model)
{
    /// <exception cref="ArgumentException">An empty prompt, an id outside the vocabulary, a completion that would
    /// pass the model's context, or invalid options; names the prompt index or the option.</exception>
    public IReadOnlyList<GeneratedCompletion> Generate(IReadOnlyList<int[]> prompts, int padTokenId, SamplingOptions options,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        ValidatePrompts(prompts, padTokenId, options);
        if (prompts.Count == 0)
            return [];

        int batch = prompts.Count;
        int promptLength = prompts.Max(prompt => prompt.Length);
        var sequences = new List<long>[batch];
        var masks = new List<bool>[batch];
        for (int row = 0; row < batch; row++)
        {
            int padding = promptLength - prompts[row].Length;
            sequences[row] = [.. Enumerable.Repeat((long)padTokenId, padding), .. prompts[row].Select(id => (long)id)];
            masks[row] = [.. Enumerable.Repeat(false, padding), .. Enumerable.Repeat(true, prompts[row].Length)];
        }

        var tokens = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        var logProbs = Enumerable.Range(0, batch).Select(_ => new List<float>()).ToArray();
        var stopped = new bool[batch];
        var stopTokens = options.StopTokenIds.ToHashSet();
        var device = model.Device;
        int allowed = options.VocabularyLimit ?? model.Config.VocabSize;

        using var noGrad = no_grad();
        using var generator = new Generator(unchecked((ulong)(options.Seed ?? Random.Shared.NextInt64())), device);
        using var cache = options.UseKvCache ? model.CreateKvCache() : null;
        for (int step = 0; step < options.MaxNewTokens && !stopped.All(done => done); step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            // With the cache only the newest column is fed after the first step; without it, everything, every step.
            int fed = cache is not null && step > 0 ? 1 : sequences[0].Count;
            var inputIds = tensor(sequences.SelectMany(sequence => sequence.Skip(sequence.Count - fed)).ToArray(), device: device).reshape(batch, fed);
            var inputMask = tensor(masks.SelectMany(mask => mask.Skip(mask.Count - fed)).ToArray(), device: device).reshape(batch, fed);

            var hidden = model.HiddenStates(inputIds, inputMask, cache);
            var logits = model.Logits(hidden.narrow(1, fed - 1, 1).squeeze(1)).to(ScalarType.Float32);
            // Ids past the tokenizer's vocabulary (a config's padding) can never be sampled, nor decoded.
            if (allowed < logits.shape[1])
                logits = logits.narrow(1, 0, allowed);
            var next = Choose(logits, options, generator);
            // The sampler's own log-prob: of logits/τ (τ = 1 for greedy), the policy that is trained and constrained.
            var policyLogits = options.Temperature > 0 ? logits / options.Temperature : logits;
            var chosenLogProbs = policyLogits.log_softmax(-1).gather(1, next.unsqueeze(1)).squeeze(1);

            var nextIds = next.cpu().data<long>().ToArray();
            var nextLogProbs = chosenLogProbs.cpu().data<float>().ToArray();
            for (int row = 0; row < batch; row++)
            {
                bool active = !stopped[row];
                if (active)
                {
                    tokens[row].Add((int)nextIds[row]);
                    logProbs[row].Add(nextLogProbs[row]);
                    stopped[row] = stopTokens.Contains((int)nextIds[row]);
                }
                sequences[row].Add(active ? nextIds[row] : padTokenId);
                masks[row].Add(active);
            }
        }

        return Enumerable.Range(0, batch)
            .Select(row => new GeneratedCompletion([.. tokens[row]], [.. logProbs[row]], stopped[row]))
            .ToArray();
    }

    /// <summary>Next token per row [B] from float32 logits [B, V].</summary>
    private static Tensor Choose(Tensor logits, SamplingOptions options, Generator generator)
    {
        if (options.Temperature == 0)
            return logits.argmax(-1);

        using var scope = NewDisposeScope();
        var scaled = logits / options.Temperature;
        if (options.TopP >= 1)
            return scaled.softmax(-1).multinomial(1, generator: generator).squeeze(1).MoveToOuterDisposeScope();

        var (sortedLogits, order) = scaled.sort(-1, descending: true);
        var sortedProbabilities = sortedLogits.softmax(-1);
        // Drop a token when the more likely ones before it already reach top_p; the most likely always stays.
        var massBefore = sortedProbabilities.cumsum(-1) - sortedProbabilities;
        var kept = sortedLogits.masked_fill(massBefore.gt(options.TopP), float.NegativeInfinity);
        var pick = kept.softmax(-1).multinomial(1, generator: generator);
        return order.gather(1, pick).squeeze(1).MoveToOuterDisposeScope();
    }

    private void ValidatePrompts(IReadOnlyList<int[]> prompts, int padTokenId, SamplingOptions options)
    {
        int vocabulary = model.Config.VocabSize;
        if (options.VocabularyLimit is { } limit && (limit < 1 || limit > vocabulary))
            throw new ArgumentException($"the vocabulary limit {limit} must be within [1, {vocabulary}], the model's vocabulary.", nameof(options));
        if (padTokenId < 0 || padTokenId >= vocabulary)
            throw new ArgumentException($"pad token id {padTokenId} is outside the vocabulary [0, {vocabulary}).", nameof(padTokenId));
        foreach (var stop in options.StopTokenIds)
        {
            if (stop < 0 || stop >= (options.VocabularyLimit ?? vocabulary))
                throw new ArgumentException($"stop token id {stop} is outside the vocabulary [0, {options.VocabularyLimit ?? vocabulary}).", nameof(options));
        }
        for (int i = 0; i < prompts.Count; i++)
        {
            var prompt = prompts[i];
            if (prompt.Length == 0)
                throw new ArgumentException($"prompt {i} is empty; at least one token (e.g. BOS) is needed.", nameof(prompts));
            int bad = Array.FindIndex(prompt, id => id < 0 || id >= vocabulary);
            if (bad >= 0)
                throw new ArgumentException($"prompt {i}: token id {prompt[bad]} at position {bad} is outside the vocabulary [0, {vocabulary}).", nameof(prompts));
            if (prompt.Length + options.MaxNewTokens > model.Config.MaxPositionEmbeddings)
                throw new ArgumentException($"prompt {i}: {prompt.Length} tokens + {options.MaxNewTokens} new tokens exceed the model's " +
                    $"context of {model.Config.MaxPositionEmbeddings}.", nameof(prompts));
        }
    }
}
