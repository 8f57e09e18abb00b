using Distill.Core.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Scoring;

/// <summary>
/// A batch laid out so every completion starts in the same column: prompts left-padded to the longest prompt P,
/// completions right-padded to the longest completion C. Completion token t is then predicted at column P - 1 + t
/// for every row, one slice for the whole batch. Tensors are created in the caller's dispose scope.
/// </summary>
internal sealed record ScoringBatch(Tensor InputIds, Tensor AttentionMask, Tensor Targets, Tensor Mask, int PromptLength, int CompletionLength)
{
    public static ScoringBatch Create(LlamaForCausalLM model, IReadOnlyList<ScoringItem> items)
    {
        Validate(model.Config, items);
        int batch = items.Count;
        int promptLength = items.Count == 0 ? 0 : items.Max(item => item.PromptTokenIds.Length);
        int completionLength = items.Count == 0 ? 0 : items.Max(item => item.CompletionTokenIds.Length);
        // The last completion token predicts nothing we need, so it is not fed.
        int inputLength = promptLength + Math.Max(completionLength - 1, 0);

        var ids = new long[batch * inputLength];
        var attention = new bool[batch * inputLength];
        var targets = new long[batch * completionLength];
        var mask = new bool[batch * completionLength];
        for (int row = 0; row < batch; row++)
        {
            var (prompt, completion) = (items[row].PromptTokenIds, items[row].CompletionTokenIds);
            int start = row * inputLength + promptLength - prompt.Length;
            for (int i = 0; i < prompt.Length; i++)
                (ids[start + i], attention[start + i]) = (prompt[i], true);
            int completionStart = row * inputLength + promptLength;
            for (int t = 0; t < completion.Length; t++)
            {
                targets[row * completionLength + t] = completion[t];
                mask[row * completionLength + t] = true;
                if (t < completion.Length - 1)
                    (ids[completionStart + t], attention[completionStart + t]) = (completion[t], true);
            }
        }

        var device = model.Device;
        return new ScoringBatch(
            tensor(ids, device: device).reshape(batch, inputLength),
            tensor(attention, device: device).reshape(batch, inputLength),
            tensor(targets, device: device).reshape(batch, completionLength),
            tensor(mask, device: device).reshape(batch, completionLength),
            promptLength,
            completionLength);
    }

    /// <summary>
    /// Float32 log-softmax at each completion position, [B, C, V']: of logits / <paramref name="temperature"/> (the
    /// sampler's distribution; 1 is the model's own), over the first <paramref name="vocabularyLimit"/> ids when given
    /// (V' = the limit; a config may pad its vocabulary beyond the tokenizer's real tokens).
    /// </summary>
    public Tensor CompletionLogDistribution(LlamaForCausalLM model, double temperature = 1.0, int? vocabularyLimit = null)
    {
        using var scope = NewDisposeScope();
        var logits = CompletionLogits(model, vocabularyLimit);
        if (temperature != 1.0)
            logits = logits / temperature;
        return logits.log_softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>Float32 logits at each completion position, [B, C, V'] (see <see cref="CompletionLogDistribution"/>).</summary>
    public Tensor CompletionLogits(LlamaForCausalLM model, int? vocabularyLimit = null)
    {
        using var scope = NewDisposeScope();
        long batch = InputIds.shape[0];
        int vocabulary = Math.Min(vocabularyLimit ?? model.Config.VocabSize, model.Config.VocabSize);
        if (CompletionLength == 0)
            return zeros(batch, 0, vocabulary, device: model.Device).MoveToOuterDisposeScope();
        var hidden = model.HiddenStates(InputIds, AttentionMask);
        var predicting = hidden.narrow(1, PromptLength - 1, CompletionLength);
        var logits = model.Logits(predicting).to(ScalarType.Float32);
        if (vocabulary < model.Config.VocabSize)
            logits = logits.narrow(-1, 0, vocabulary);
        return logits.MoveToOuterDisposeScope();
    }

    private static void Validate(LlamaConfig config, IReadOnlyList<ScoringItem> items)
    {
        for (int index = 0; index < items.Count; index++)
        {
            var item = items[index] ?? throw new ArgumentException($"batch item {index} is null.", nameof(items));
            if (item.PromptTokenIds.Length == 0)
                throw new ArgumentException($"batch item {index}: the prompt is empty; at least one token (e.g. BOS) is needed " +
                    "to predict the first completion token.", nameof(items));
            CheckIds(item.PromptTokenIds, "prompt");
            CheckIds(item.CompletionTokenIds, "completion");
            int length = item.PromptTokenIds.Length + item.CompletionTokenIds.Length;
            if (length > config.MaxPositionEmbeddings)
                throw new ArgumentException($"batch item {index}: prompt + completion is {length} tokens, more than the model's " +
                    $"context of {config.MaxPositionEmbeddings}.", nameof(items));

            void CheckIds(int[] ids, string part)
            {
                int bad = Array.FindIndex(ids, id => id < 0 || id >= config.VocabSize);
                if (bad >= 0)
                    throw new ArgumentException($"batch item {index}: {part} token id {ids[bad]} at position {bad} is outside " +
                        $"the vocabulary [0, {config.VocabSize}).", nameof(items));
            }
        }
    }
}
