using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Distill.Core.Modeling;

// Field names given by [ComponentName] are the Hugging Face state-dict names; checkpoints load by them unchanged.

/// <summary>Root-mean-square norm, computed in float32 as Hugging Face does, then scaled by a learned weight.</summary>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")]
    private Parameter weight;

    private readonly double epsilon;

    public RmsNorm(long size, double epsilon, Device? device, ScalarType? dtype) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(size, dtype: dtype, device: device));
        this.epsilon = epsilon;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = input.to(ScalarType.Float32);
        var meanSquare = hidden.pow(2).mean([-1], keepdim: true);
        hidden = hidden * rsqrt(meanSquare + epsilon);
        return (weight * hidden.to(input.dtype)).MoveToOuterDisposeScope();
    }
}

/// <summary>Multi-head attention with grouped key/value heads, rotary positions and an optional KV cache.</summary>
internal sealed class LlamaAttention : nn.Module
{
    [ComponentName(Name = "q_proj")] private readonly Linear queryProjection;
    [ComponentName(Name = "k_proj")] private readonly Linear keyProjection;
    [ComponentName(Name = "v_proj")] private readonly Linear valueProjection;
    [ComponentName(Name = "o_proj")] private readonly Linear outputProjection;
    [ComponentName(Name = "q_norm")] private readonly RmsNorm? queryNorm;
    [ComponentName(Name = "k_norm")] private readonly RmsNorm? keyNorm;

    private readonly int layerIndex;
    private readonly int heads;
    private readonly int keyValueHeads;
    private readonly int headDim;

    public LlamaAttention(LlamaConfig config, int layerIndex, Device? device, ScalarType? dtype) : base(nameof(LlamaAttention))
    {
        this.layerIndex = layerIndex;
        heads = config.NumAttentionHeads;
        keyValueHeads = config.NumKeyValueHeads;
        headDim = config.HeadDim;
        queryProjection = nn.Linear(config.HiddenSize, heads * headDim, config.HasQkvBias, device, dtype);
        keyProjection = nn.Linear(config.HiddenSize, keyValueHeads * headDim, config.HasQkvBias, device, dtype);
        valueProjection = nn.Linear(config.HiddenSize, keyValueHeads * headDim, config.HasQkvBias, device, dtype);
        outputProjection = nn.Linear(heads * headDim, config.HiddenSize, config.HasOutputBias, device, dtype);
        if (config.HasQkNorm)
        {
            queryNorm = new RmsNorm(headDim, config.RmsNormEps, device, dtype);
            keyNorm = new RmsNorm(headDim, config.RmsNormEps, device, dtype);
        }
        RegisterComponents();
    }

    /// <param name="hidden">[B, T, hidden]</param>
    /// <param name="cos">[B, 1, T, D]</param>
    /// <param name="sin">[B, 1, T, D]</param>
    /// <param name="allowed">[B, 1, T, S]: true where a query may attend to a key.</param>
    public Tensor forward(Tensor hidden, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        long batch = hidden.shape[0], length = hidden.shape[1];
        var queries = SplitHeads(queryProjection.forward(hidden), heads, queryNorm);
        var keys = SplitHeads(keyProjection.forward(hidden), keyValueHeads, keyNorm);
        var values = SplitHeads(valueProjection.forward(hidden), keyValueHeads, null);
        queries = RotaryEmbedding.Apply(queries, cos, sin);
        keys = RotaryEmbedding.Apply(keys, cos, sin);
        if (cache is not null)
            (keys, values) = cache.Append(layerIndex, keys, values);

        int groupSize = heads / keyValueHeads;
        Tensor attended;
        if (groupSize > 1)
        {
            // Grouped-query attention without copying keys and values per query head: query head h uses key/value head
            // h / groupSize, so the group's queries are stacked along the length axis of their shared key/value head.
            var grouped = queries.reshape(batch, keyValueHeads, groupSize * length, headDim);
            var groupedAllowed = allowed.unsqueeze(2).expand(batch, 1, groupSize, length, allowed.shape[3])
                .reshape(batch, 1, groupSize * length, allowed.shape[3]);
            attended = nn.functional.scaled_dot_product_attention(grouped, keys, values, groupedAllowed)
                .view(batch, heads, length, headDim);
        }
        else
        {
            attended = nn.functional.scaled_dot_product_attention(queries, keys, values, allowed);
        }
        var merged = attended.transpose(1, 2).reshape(batch, length, heads * headDim);
        return outputProjection.forward(merged).MoveToOuterDisposeScope();

        Tensor SplitHeads(Tensor projected, int headCount, RmsNorm? norm)
        {
            var split = projected.view(batch, length, headCount, headDim);
            if (norm is not null)
                split = norm.forward(split);
            return split.transpose(1, 2);
        }
    }
}

/// <summary>SwiGLU feed-forward: <c>down(silu(gate(x)) * up(x))</c>.</summary>
internal sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "gate_proj")] private readonly Linear gateProjection;
    [ComponentName(Name = "up_proj")] private readonly Linear upProjection;
    [ComponentName(Name = "down_proj")] private readonly Linear downProjection;

    public LlamaMlp(LlamaConfig config, Device? device, ScalarType? dtype) : base(nameof(LlamaMlp))
    {
        gateProjection = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false, device, dtype);
        upProjection = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false, device, dtype);
        downProjection = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: false, device, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var gated = nn.functional.silu(gateProjection.forward(input)) * upProjection.forward(input);
        return downProjection.forward(gated).MoveToOuterDisposeScope();
    }
}

/// <summary>Pre-norm transformer block: attention then MLP, each added back to the residual stream.</summary>
internal sealed class LlamaDecoderLayer : nn.Module
{
    [ComponentName(Name = "self_attn")] private readonly LlamaAttention attention;
    [ComponentName(Name = "mlp")] private readonly LlamaMlp mlp;
    [ComponentName(Name = "input_layernorm")] private readonly RmsNorm inputNorm;
    [ComponentName(Name = "post_attention_layernorm")] private readonly RmsNorm postAttentionNorm;

    public LlamaDecoderLayer(LlamaConfig config, int layerIndex, Device? device, ScalarType? dtype) : base(nameof(LlamaDecoderLayer))
    {
        attention = new LlamaAttention(config, layerIndex, device, dtype);
        mlp = new LlamaMlp(config, device, dtype);
        inputNorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        postAttentionNorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        hidden = hidden + attention.forward(inputNorm.forward(hidden), cos, sin, allowed, cache);
        hidden = hidden + mlp.forward(postAttentionNorm.forward(hidden));
        return hidden.MoveToOuterDisposeScope();
    }
}

/// <summary>The decoder stack without the language-model head (Hugging Face's <c>LlamaModel</c>, prefix <c>model.</c>).</summary>
internal sealed class LlamaModel : nn.Module
{
    [ComponentName(Name = "embed_tokens")] private readonly Embedding embedTokens;
    [ComponentName(Name = "layers")] private readonly ModuleList<LlamaDecoderLayer> layers;
    [ComponentName(Name = "norm")] private readonly RmsNorm norm;

    private readonly RotaryEmbedding rotary;

    public LlamaModel(LlamaConfig config, Device? device, ScalarType? dtype) : base(nameof(LlamaModel))
    {
        embedTokens = nn.Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => new LlamaDecoderLayer(config, i, device, dtype)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        rotary = new RotaryEmbedding(config);
        RegisterComponents();
    }

    public Parameter EmbeddingWeight => embedTokens.weight!;

    /// <summary>Final-norm hidden states [B, T, hidden] of the new tokens.</summary>
    /// <param name="inputIds">[B, T] new token ids.</param>
    /// <param name="attentionMask">[B, T], nonzero for real tokens, zero for padding.</param>
    public Tensor forward(Tensor inputIds, Tensor attentionMask, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        long length = inputIds.shape[1];
        int pastLength = cache?.Length ?? 0;
        var newMask = attentionMask.ne(0);
        // Positions count real tokens only, so a left-padded row starts at 0 like an unpadded one.
        var (fullMask, positions) = cache is not null
            ? cache.Begin(newMask)
            : (newMask, (newMask.to(ScalarType.Int64).cumsum(1) - 1).clamp_min(0));
        long totalLength = fullMask.shape[1];
        var hidden = embedTokens.forward(inputIds);
        var (cos, sin) = rotary.Compute(positions, hidden.dtype);

        var queryPositions = arange(pastLength, pastLength + length, device: inputIds.device).unsqueeze(1);
        var keyPositions = arange(totalLength, device: inputIds.device).unsqueeze(0);
        var causal = keyPositions.le(queryPositions);
        // A padding query sees no real key; letting it see itself keeps softmax finite (its output is never used).
        var allowed = (causal.unsqueeze(0) & fullMask.unsqueeze(1)) | keyPositions.eq(queryPositions).unsqueeze(0);
        allowed = allowed.unsqueeze(1);

        foreach (var layer in layers)
            hidden = layer.forward(hidden, cos, sin, allowed, cache);
        cache?.End();
        return norm.forward(hidden).MoveToOuterDisposeScope();
    }
}
