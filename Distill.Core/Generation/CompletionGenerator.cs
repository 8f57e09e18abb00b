using Distill.Core.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Generation;

/// <summary>
/// Batched decoding: prompts are left-padded into one batch and all rows advance together, with the KV cache feeding
/// only the newest token each step. A row that emits a stop token leaves the batch (its cache rows with it), so the
/// steps after it compute only the rows still decoding.
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
        var device = model.Device;
        int allowed = options.VocabularyLimit ?? model.Config.VocabSize;
        var stopTokens = options.StopTokenIds.ToHashSet();
        var tokens = Enumerable.Range(0, batch).Select(_ => new List<int>(options.MaxNewTokens)).ToArray();
        var logProbs = Enumerable.Range(0, batch).Select(_ => new List<float>(options.MaxNewTokens)).ToArray();
        var stopped = new bool[batch];

        // The left-padded prompts, built once; later steps feed one column.
        var promptIds = new long[batch * promptLength];
        var promptMask = new bool[batch * promptLength];
        for (int row = 0; row < batch; row++)
        {
            int padding = promptLength - prompts[row].Length;
            for (int i = 0; i < promptLength; i++)
            {
                promptIds[row * promptLength + i] = i < padding ? padTokenId : prompts[row][i - padding];
                promptMask[row * promptLength + i] = i >= padding;
            }
        }

        using var noGrad = no_grad();
        using var generator = new Generator(unchecked((ulong)(options.Seed ?? Random.Shared.NextInt64())), device);
        using var cache = options.UseKvCache ? model.CreateKvCache(promptLength + options.MaxNewTokens) : null;
        // Without the cache every step recomputes the whole sequence: the rows' ids so far, kept for that path only.
        var sequences = cache is null ? promptIds.Select(id => id).ToList() : null;
        var sequenceMask = cache is null ? promptMask.ToList() : null;
        // The batch row b of the model's input is original row active[b]; rows that stop leave the batch (with the cache).
        var active = Enumerable.Range(0, batch).ToArray();
        Tensor? inputIds = null, inputMask = null;
        try
        {
            inputIds = tensor(promptIds, device: device).reshape(batch, promptLength);
            inputMask = tensor(promptMask, device: device).reshape(batch, promptLength);
            for (int step = 0; step < options.MaxNewTokens && active.Length > 0; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var hidden = model.HiddenStates(inputIds, inputMask, cache);
                var logits = model.Logits(hidden.narrow(1, hidden.shape[1] - 1, 1).squeeze(1)).to(ScalarType.Float32);
                // Ids past the tokenizer's vocabulary (a config's padding) can never be sampled, nor decoded.
                if (allowed < logits.shape[1])
                    logits = logits.narrow(1, 0, allowed);
                var next = Choose(logits, options, generator);
                // The sampler's own log-prob: of logits/τ (τ = 1 for greedy), the policy that is trained and constrained.
                var policyLogits = options.Temperature > 0 ? logits / options.Temperature : logits;
                var chosenLogProbs = policyLogits.gather(1, next.unsqueeze(1)).squeeze(1) - policyLogits.logsumexp(1);

                var nextIds = next.cpu().data<long>().ToArray();
                var nextLogProbs = chosenLogProbs.cpu().data<float>().ToArray();
                bool anyStopped = false;
                for (int b = 0; b < active.Length; b++)
                {
                    int row = active[b];
                    if (stopped[row])
                        continue;
                    tokens[row].Add((int)nextIds[b]);
                    logProbs[row].Add(nextLogProbs[b]);
                    stopped[row] = stopTokens.Contains((int)nextIds[b]);
                    anyStopped |= stopped[row];
                }

                inputIds.Dispose();
                inputMask.Dispose();
                if (cache is not null)
                {
                    if (anyStopped)
                    {
                        // Stopped rows leave the batch: the cache keeps the others' rows, in order.
                        var keep = Enumerable.Range(0, active.Length).Where(b => !stopped[active[b]]).ToArray();
                        if (keep.Length > 0)
                        {
                            using var rows = tensor(keep.Select(b => (long)b).ToArray(), device: device);
                            cache.KeepRows(rows);
                        }
                        nextIds = keep.Select(b => nextIds[b]).ToArray();
                        active = keep.Select(b => active[b]).ToArray();
                    }
                    inputIds = tensor(nextIds, device: device).reshape(active.Length, 1).DetachFromDisposeScope();
                    inputMask = ones([active.Length, 1], ScalarType.Bool, device).DetachFromDisposeScope();
                }
                else
                {
                    // The reference path: every row stays; a stopped row receives masked-out padding.
                    int width = sequences!.Count / batch;
                    var grownIds = new List<long>(batch * (width + 1));
                    var grownMask = new List<bool>(batch * (width + 1));
                    for (int row = 0; row < batch; row++)
                    {
                        bool real = tokens[row].Count == step + 1;
                        grownIds.AddRange(sequences.Skip(row * width).Take(width));
                        grownIds.Add(real ? tokens[row][^1] : padTokenId);
                        grownMask.AddRange(sequenceMask!.Skip(row * width).Take(width));
                        grownMask.Add(real);
                    }
                    (sequences, sequenceMask) = (grownIds, grownMask);
                    inputIds = tensor(sequences.ToArray(), device: device).reshape(batch, width + 1).DetachFromDisposeScope();
                    inputMask = tensor(sequenceMask.ToArray(), device: device).reshape(batch, width + 1).DetachFromDisposeScope();
                    if (stopped.All(done => done))
                        active = [];
                }
            }
        }
        finally
        {
            inputIds?.Dispose();
            inputMask?.Dispose();
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
