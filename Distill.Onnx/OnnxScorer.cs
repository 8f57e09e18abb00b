using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Distill.Onnx;

/// <summary>How the ONNX Runtime session runs.</summary>
public sealed record OnnxScorerOptions
{
    /// <summary>Runs on the CUDA execution provider; needs the Microsoft.ML.OnnxRuntime.Gpu package and an NVIDIA GPU.</summary>
    public bool UseCuda { get; init; }

    public int CudaDeviceId { get; init; }

    /// <summary>Threads for one operator; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }
}

/// <summary>
/// Scores completions with an ONNX causal LM that has the Optimum interface (ours from
/// <see cref="OnnxCausalLmExporter"/>, or an <c>optimum-cli export onnx --task text-generation</c> model):
/// one left-padded session run per batch, log-softmax over the logits of the completion positions.
/// </summary>
public sealed class OnnxScorer : ISequenceScorer, IDisposable
{
    private readonly SessionOptions _sessionOptions;
    private readonly InferenceSession _session;
    private readonly bool _feedsPositionIds;

    public OnnxScorer(string modelPath, LlamaConfig config, OnnxScorerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        options ??= new OnnxScorerOptions();
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"ONNX model '{modelPath}' does not exist.", modelPath);

        VocabularySize = config.VocabSize;
        MaxContext = config.MaxPositionEmbeddings;
        _sessionOptions = CreateSessionOptions(options);
        try
        {
            _session = new InferenceSession(modelPath, _sessionOptions);
            _feedsPositionIds = CheckInterface(_session, modelPath, VocabularySize);
        }
        catch
        {
            _session?.Dispose();
            _sessionOptions.Dispose();
            throw;
        }
    }

    /// <summary>Opens <c>model.onnx</c> and <c>config.json</c> in a checkpoint directory.</summary>
    public static OnnxScorer FromCheckpoint(string checkpointDirectory, OnnxScorerOptions? options = null) =>
        new(Path.Combine(checkpointDirectory, OptimumCausalLm.ModelFileName),
            LlamaConfig.Load(Path.Combine(checkpointDirectory, ModelCheckpoint.ConfigFileName)), options);

    public int VocabularySize { get; }

    public int MaxContext { get; }

    public Task<IReadOnlyList<ScoredCompletion>> ScoreAsync(IReadOnlyList<ScoringItem> batch, int topK,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(topK, VocabularySize);
        for (var i = 0; i < batch.Count; i++)
            Validate(batch[i], i);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.Run(() => Score(batch, topK, cancellationToken), cancellationToken);
    }

    public void Dispose()
    {
        _session.Dispose();
        _sessionOptions.Dispose();
    }

    private IReadOnlyList<ScoredCompletion> Score(IReadOnlyList<ScoringItem> batch, int topK, CancellationToken cancellationToken)
    {
        // The last completion token is only ever a target, never context, so it is not fed.
        var lengths = batch.Select(item => item.CompletionTokenIds.Length == 0 ? 0 : item.PromptTokenIds.Length + item.CompletionTokenIds.Length - 1).ToArray();
        var width = lengths.Max();
        if (width == 0)
            return batch.Select(_ => new ScoredCompletion([], topK > 0 ? [] : null)).ToArray();
        // The logits come back as one span, which cannot hold more than Array.MaxLength floats.
        if ((long)batch.Count * width * VocabularySize > Array.MaxLength)
            throw new ArgumentException($"a batch of {batch.Count} × {width} tokens needs more than {Array.MaxLength:N0} logits; " +
                "split it into smaller batches.", nameof(batch));

        var (inputIds, attentionMask, positionIds) = LeftPad(batch, lengths, width);
        long[] shape = [batch.Count, width];
        using var runOptions = new RunOptions();
        using var cancellation = cancellationToken.Register(() => runOptions.Terminate = true);
        using var inputIdsValue = OrtValue.CreateTensorValueFromMemory(inputIds, shape);
        using var attentionMaskValue = OrtValue.CreateTensorValueFromMemory(attentionMask, shape);
        using var positionIdsValue = OrtValue.CreateTensorValueFromMemory(positionIds, shape);
        var inputNames = new List<string> { OptimumCausalLm.InputIds, OptimumCausalLm.AttentionMask };
        var inputValues = new List<OrtValue> { inputIdsValue, attentionMaskValue };
        if (_feedsPositionIds)
        {
            inputNames.Add(OptimumCausalLm.PositionIds);
            inputValues.Add(positionIdsValue);
        }

        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(runOptions, inputNames, inputValues, [OptimumCausalLm.Logits]);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        using (outputs)
        {
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            var results = new ScoredCompletion[batch.Count];
            for (var b = 0; b < batch.Count; b++)
            {
                var completion = batch[b].CompletionTokenIds;
                var logProbs = new float[completion.Length];
                var top = topK > 0 ? new TokenLogProb[completion.Length][] : null;
                for (var t = 0; t < completion.Length; t++)
                {
                    // Left padding puts the completion at the end: completion[t] is predicted at row width − C + t.
                    var row = logits.Slice(((b * width) + width - completion.Length + t) * VocabularySize, VocabularySize);
                    var logNormalizer = LogSumExp(row);
                    logProbs[t] = row[completion[t]] - logNormalizer;
                    if (top is not null)
                        top[t] = TopK(row, topK, logNormalizer);
                }
                results[b] = new ScoredCompletion(logProbs, top);
            }
            return results;
        }
    }

    /// <summary>Left-pads every sequence to <paramref name="width"/>; positions count real tokens only, as Hugging Face does.</summary>
    private static (long[] InputIds, long[] AttentionMask, long[] PositionIds) LeftPad(IReadOnlyList<ScoringItem> batch, int[] lengths, int width)
    {
        var inputIds = new long[batch.Count * width];
        var attentionMask = new long[batch.Count * width];
        var positionIds = new long[batch.Count * width];
        for (var b = 0; b < batch.Count; b++)
        {
            var row = b * width;
            var start = width - lengths[b];
            positionIds.AsSpan(row, start).Fill(1);
            for (var p = 0; p < lengths[b]; p++)
            {
                var prompt = batch[b].PromptTokenIds;
                inputIds[row + start + p] = p < prompt.Length ? prompt[p] : batch[b].CompletionTokenIds[p - prompt.Length];
                attentionMask[row + start + p] = 1;
                positionIds[row + start + p] = p;
            }
        }
        return (inputIds, attentionMask, positionIds);
    }

    private static float LogSumExp(ReadOnlySpan<float> row)
    {
        var max = float.NegativeInfinity;
        foreach (var value in row)
            max = Math.Max(max, value);
        var sum = 0.0;
        foreach (var value in row)
            sum += Math.Exp(value - max);
        return (float)(max + Math.Log(sum));
    }

    /// <summary>The <paramref name="k"/> most likely tokens, most likely first, found with a k-sized min-heap.</summary>
    private static TokenLogProb[] TopK(ReadOnlySpan<float> row, int k, float logNormalizer)
    {
        var heap = new PriorityQueue<int, float>(k);
        for (var token = 0; token < row.Length; token++)
        {
            if (heap.Count < k)
                heap.Enqueue(token, row[token]);
            else if (heap.TryPeek(out _, out var smallest) && row[token] > smallest)
                heap.EnqueueDequeue(token, row[token]);
        }
        var top = new TokenLogProb[heap.Count];
        for (var i = top.Length - 1; i >= 0; i--)
        {
            var token = heap.Dequeue();
            top[i] = new TokenLogProb(token, row[token] - logNormalizer);
        }
        return top;
    }

    private void Validate(ScoringItem item, int index)
    {
        if (item?.PromptTokenIds is null || item.CompletionTokenIds is null)
            throw new ArgumentException($"batch[{index}] or its token arrays are null.", "batch");
        if (item.PromptTokenIds.Length == 0)
            throw new ArgumentException($"batch[{index}] has an empty prompt; the first completion token needs at least one token of context.", "batch");
        var length = item.PromptTokenIds.Length + item.CompletionTokenIds.Length;
        if (length > MaxContext)
            throw new ArgumentException($"batch[{index}] has {length} tokens, over the model's context of {MaxContext}.", "batch");
        CheckTokens(item.PromptTokenIds, "prompt");
        CheckTokens(item.CompletionTokenIds, "completion");

        void CheckTokens(int[] tokens, string part)
        {
            for (var t = 0; t < tokens.Length; t++)
            {
                if ((uint)tokens[t] >= (uint)VocabularySize)
                    throw new ArgumentException($"batch[{index}] {part} token {t} is {tokens[t]}, outside the vocabulary [0, {VocabularySize}).", "batch");
            }
        }
    }

    /// <summary>Whether this build carries ONNX Runtime's CUDA execution provider (built with -p:DistillTorchBackend=cuda).</summary>
    public static bool CudaBuild =>
#if DISTILL_ONNX_GPU
        true;
#else
        false;
#endif

    /// <summary>
    /// The execution provider for a <c>--device</c>: <c>cuda</c> or <c>cuda:N</c> asks for CUDA device N; <c>auto</c>
    /// takes device 0 in a CUDA build; anything else is the CPU. Null means the CPU.
    /// </summary>
    public static int? CudaDeviceFor(string device)
    {
        var spelled = device.Trim().ToLowerInvariant();
        if (spelled == "cuda") return 0;
        if (spelled.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(spelled.AsSpan(5), out var index) && index >= 0) return index;
        return spelled == "auto" && CudaBuild ? 0 : null;
    }

    private static SessionOptions CreateSessionOptions(OnnxScorerOptions options)
    {
        var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (options.IntraOpThreads > 0)
            sessionOptions.IntraOpNumThreads = options.IntraOpThreads;
        if (!options.UseCuda)
            return sessionOptions;
        try
        {
            sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            return sessionOptions;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            sessionOptions.Dispose();
            throw new InvalidOperationException(
                $"the ONNX Runtime CUDA execution provider is unavailable (device {options.CudaDeviceId}): reference " +
                "Microsoft.ML.OnnxRuntime.Gpu instead of Microsoft.ML.OnnxRuntime and make CUDA and cuDNN loadable, " +
                $"or set {nameof(OnnxScorerOptions.UseCuda)} to false. {e.Message}", e);
        }
    }

    /// <summary>Checks the Optimum names and dtypes; returns whether the model takes position_ids.</summary>
    private static bool CheckInterface(InferenceSession session, string modelPath, int vocabularySize)
    {
        var inputs = session.InputMetadata.Concat(session.OverridableInitializerMetadata).ToDictionary();
        foreach (var name in new[] { OptimumCausalLm.InputIds, OptimumCausalLm.AttentionMask })
        {
            if (!inputs.TryGetValue(name, out var input) || input.ElementDataType != TensorElementType.Int64)
                throw new InvalidDataException($"ONNX model '{modelPath}' has no int64 input '{name}'.");
        }
        var unknownInputs = session.InputMetadata.Keys
            .Except([OptimumCausalLm.InputIds, OptimumCausalLm.AttentionMask, OptimumCausalLm.PositionIds]).ToList();
        if (unknownInputs.Count > 0)
            throw new InvalidDataException($"ONNX model '{modelPath}' needs inputs this scorer does not feed: " +
                $"{string.Join(", ", unknownInputs)} (export without past key values).");
        if (!session.OutputMetadata.TryGetValue(OptimumCausalLm.Logits, out var logits)
            || logits.ElementDataType != TensorElementType.Float || logits.Dimensions.Length != 3)
            throw new InvalidDataException($"ONNX model '{modelPath}' has no float32 output '{OptimumCausalLm.Logits}' [batch, sequence, vocab].");
        if (logits.Dimensions[2] > 0 && logits.Dimensions[2] != vocabularySize)
            throw new InvalidDataException($"ONNX model '{modelPath}' has {logits.Dimensions[2]} logits per token, but config.json's vocab_size is {vocabularySize}.");
        return inputs.ContainsKey(OptimumCausalLm.PositionIds);
    }
}
