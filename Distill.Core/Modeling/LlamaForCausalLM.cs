using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Distill.Core.Modeling;

/// <summary>
/// A Llama-family causal language model (Llama 2/3, Qwen2, Qwen3) whose parameters carry Hugging Face's state-dict
/// names (<c>model.layers.0.self_attn.q_proj.weight</c>, <c>lm_head.weight</c>...), so checkpoints load unchanged.
/// With tied embeddings there is no <c>lm_head</c>: the output projection reuses <c>model.embed_tokens.weight</c>.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module
{
    [ComponentName(Name = "model")] private readonly LlamaModel model;
    [ComponentName(Name = "lm_head")] private readonly Linear? languageModelHead;

    public LlamaConfig Config { get; }

    /// <summary>Builds a randomly initialised model (normal(0, initializer_range) weights, zero biases, unit norms).</summary>
    /// <param name="initializationSeed">
    /// When set, the weights are drawn from this seed by a .NET generator, identical on every machine; otherwise by
    /// libtorch's global generator, whose CPU kernels draw different numbers on AVX2 and AVX-512 machines from the same
    /// seed (fast, and what a model about to load a checkpoint needs).
    /// </param>
    /// <exception cref="ModelConfigException">The config is invalid.</exception>
    public LlamaForCausalLM(LlamaConfig config, Device? device = null, ScalarType? dtype = null, long? initializationSeed = null) : base(nameof(LlamaForCausalLM))
    {
        config.Validate("model config");
        Config = config;
        model = new LlamaModel(config, device, dtype);
        if (!config.TieWordEmbeddings)
            languageModelHead = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, device, dtype);
        RegisterComponents();
        InitializeWeights(initializationSeed is { } seed ? new Random(unchecked((int)(seed ^ (seed >> 32)))) : null);
    }

    public Device Device => model.EmbeddingWeight.device;

    public ScalarType DType => model.EmbeddingWeight.dtype;

    /// <summary>A KV cache for up to <paramref name="capacity"/> positions (prompt and new tokens), allocated once; the context by default.</summary>
    public KvCache CreateKvCache(int? capacity = null) => new(Config.NumHiddenLayers, capacity ?? Config.MaxPositionEmbeddings);

    /// <summary>Logits [B, T, V] of the next token after each input position.</summary>
    /// <param name="inputIds">[B, T] token ids (int64), left-padded when rows differ in length.</param>
    /// <param name="attentionMask">[B, T], nonzero for real tokens and zero for padding; all real when null.</param>
    /// <param name="cache">Keys and values of earlier tokens; appended to. Inference only: cached tensors are detached.</param>
    public Tensor forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var hidden = HiddenStates(inputIds, attentionMask, cache);
        return Logits(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>Final-norm hidden states [B, T, hidden]; with <see cref="Logits"/>, lets callers project only the positions they need.</summary>
    public Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null)
    {
        if (inputIds.ndim != 2)
            throw new ArgumentException($"input_ids must be [batch, length], got [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"attention_mask [{string.Join(", ", attentionMask.shape)}] must have the shape of " +
                $"input_ids [{string.Join(", ", inputIds.shape)}].", nameof(attentionMask));
        if (cache?.BatchSize is { } cachedBatch && cachedBatch != inputIds.shape[0])
            throw new ArgumentException($"the KV cache holds {cachedBatch} rows but input_ids has {inputIds.shape[0]}.", nameof(cache));

        using var scope = NewDisposeScope();
        var ids = inputIds.to(ScalarType.Int64);
        var mask = attentionMask ?? ones_like(ids);
        return model.forward(ids, mask, cache).MoveToOuterDisposeScope();
    }

    /// <summary>Projects hidden states [..., hidden] onto the vocabulary [..., V].</summary>
    public Tensor Logits(Tensor hidden) =>
        languageModelHead is not null ? languageModelHead.forward(hidden) : nn.functional.linear(hidden, model.EmbeddingWeight);

    private void InitializeWeights(Random? portable)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
                continue;
            if (name.EndsWith(".bias", StringComparison.Ordinal))
                parameter.zero_();
            else if (portable is null)
                parameter.normal_(0, Config.InitializerRange);
            else
            {
                using var values = tensor(PortableNormal(portable, parameter.numel(), Config.InitializerRange), parameter.shape);
                parameter.copy_(values);
            }
        }
    }

    // Box–Muller over System.Random's seeded (legacy, fixed) algorithm: the same floats on every machine and runtime.
    private static float[] PortableNormal(Random random, long count, double standardDeviation)
    {
        var values = new float[count];
        for (long i = 0; i < count; i += 2)
        {
            double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * standardDeviation;
            double angle = 2 * Math.PI * random.NextDouble();
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < count) values[i + 1] = (float)(radius * Math.Sin(angle));
        }
        return values;
    }
}
