using System.Text.Json;

namespace Distill.Core.Modeling;

/// <summary>Reads config.json fields with Hugging Face's defaults; every error names the file and the field.</summary>
internal sealed class ConfigJsonReader(string path, JsonElement root)
{
    public LlamaConfig ReadConfig()
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ModelConfigException(path, "(root)", "must be a JSON object.");

        var modelType = RequiredString("model_type");
        int hiddenSize = RequiredInt("hidden_size");
        int heads = RequiredInt("num_attention_heads");
        if (heads <= 0)
            throw new ModelConfigException(path, "num_attention_heads", $"must be a positive integer, got {heads}.");
        if (OptionalBool("mlp_bias") == true)
            throw new ModelConfigException(path, "mlp_bias", "is true; MLP biases are not supported.");
        if (OptionalBool("use_sliding_window") == true)
            throw new ModelConfigException(path, "use_sliding_window", "is true; sliding-window attention is not supported.");

        // transformers 5 moves rope_theta and rope_scaling into one rope_parameters block.
        bool hasRopeParameters = root.TryGetProperty("rope_parameters", out var ropeParameters) && ropeParameters.ValueKind != JsonValueKind.Null;
        var (ropeBlockName, ropeBlock) = hasRopeParameters ? ("rope_parameters", ropeParameters) : ("rope_scaling", root.TryGetProperty("rope_scaling", out var scaling) ? scaling : default);
        double ropeTheta = hasRopeParameters && ropeParameters.ValueKind == JsonValueKind.Object && ropeParameters.TryGetProperty("rope_theta", out _)
            ? NumberIn(ropeParameters, "rope_parameters.rope_theta")
            : OptionalDouble("rope_theta") ?? 10000;

        return new LlamaConfig
        {
            ModelType = modelType,
            VocabSize = RequiredInt("vocab_size"),
            HiddenSize = hiddenSize,
            IntermediateSize = RequiredInt("intermediate_size"),
            NumHiddenLayers = RequiredInt("num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = OptionalInt("num_key_value_heads") ?? heads,
            HeadDim = OptionalInt("head_dim") ?? hiddenSize / heads,
            MaxPositionEmbeddings = OptionalInt("max_position_embeddings") ?? (modelType == LlamaConfig.Llama ? 2048 : 32768),
            RmsNormEps = OptionalDouble("rms_norm_eps") ?? 1e-6,
            RopeTheta = ropeTheta,
            RopeScaling = ropeBlock.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null : ReadRopeScaling(ropeBlockName, ropeBlock),
            TieWordEmbeddings = OptionalBool("tie_word_embeddings") ?? false,
            AttentionBias = OptionalBool("attention_bias") ?? false,
            HiddenAct = OptionalString("hidden_act") ?? "silu",
            BosTokenId = OptionalInt("bos_token_id"),
            EosTokenIds = ReadEosTokenIds(),
            PadTokenId = OptionalInt("pad_token_id"),
            TorchDtype = OptionalString("torch_dtype") ?? OptionalString("dtype"),
            InitializerRange = OptionalDouble("initializer_range") ?? 0.02,
        };
    }

    private RopeScaling? ReadRopeScaling(string blockName, JsonElement block)
    {
        if (block.ValueKind != JsonValueKind.Object)
            throw new ModelConfigException(path, blockName, "must be an object or null.");
        string? type = null;
        foreach (var key in new[] { "rope_type", "type" })
        {
            if (block.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String)
                type = value.GetString();
        }
        if (type is null)
            throw new ModelConfigException(path, $"{blockName}.rope_type", "is missing.");
        if (type == "default")
            return null;
        return new RopeScaling(
            type,
            block.TryGetProperty("factor", out _) ? NumberIn(block, $"{blockName}.factor") : double.NaN,
            block.TryGetProperty("low_freq_factor", out _) ? NumberIn(block, $"{blockName}.low_freq_factor") : null,
            block.TryGetProperty("high_freq_factor", out _) ? NumberIn(block, $"{blockName}.high_freq_factor") : null,
            block.TryGetProperty("original_max_position_embeddings", out var original) && original.ValueKind != JsonValueKind.Null
                ? IntegerOf(original, $"{blockName}.original_max_position_embeddings")
                : null);
    }

    private IReadOnlyList<int> ReadEosTokenIds()
    {
        if (!root.TryGetProperty("eos_token_id", out var value) || value.ValueKind == JsonValueKind.Null)
            return [];
        if (value.ValueKind == JsonValueKind.Array)
            return value.EnumerateArray().Select(item => IntegerOf(item, "eos_token_id")).ToArray();
        return [IntegerOf(value, "eos_token_id")];
    }

    private string RequiredString(string field) =>
        OptionalString(field) ?? throw new ModelConfigException(path, field, "is missing.");

    private int RequiredInt(string field) =>
        OptionalInt(field) ?? throw new ModelConfigException(path, field, "is missing.");

    private string? OptionalString(string field)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new ModelConfigException(path, field, $"must be a string, got {value.ValueKind}.");
    }

    private int? OptionalInt(string field) =>
        root.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null ? IntegerOf(value, field) : null;

    private double? OptionalDouble(string field) =>
        root.TryGetProperty(field, out _) && root.GetProperty(field).ValueKind != JsonValueKind.Null ? NumberIn(root, field) : null;

    private bool? OptionalBool(string field)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelConfigException(path, field, $"must be true or false, got {value.ValueKind}."),
        };
    }

    private int IntegerOf(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw new ModelConfigException(path, field, $"must be an integer, got {value.GetRawText()}.");

    /// <summary><paramref name="field"/> is the dotted path used in errors; its last segment is the key in <paramref name="owner"/>.</summary>
    private double NumberIn(JsonElement owner, string field)
    {
        var value = owner.GetProperty(field[(field.LastIndexOf('.') + 1)..]);
        return value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw new ModelConfigException(path, field, $"must be a number, got {value.GetRawText()}.");
    }
}
