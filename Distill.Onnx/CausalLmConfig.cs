using System.Text.Json;

namespace Distill.Onnx;

/// <summary>
/// The shape of a Llama-family causal LM (Llama, Qwen2, Qwen3) as read from a Hugging Face <c>config.json</c>:
/// what the exporter needs to lay out the graph and the scorer needs to validate its input.
/// </summary>
public sealed record CausalLmConfig(
    string ModelType,
    int VocabularySize,
    int HiddenSize,
    int IntermediateSize,
    int LayerCount,
    int AttentionHeadCount,
    int KeyValueHeadCount,
    int HeadDim,
    float RmsNormEps,
    double RopeTheta,
    int MaxPositionEmbeddings,
    bool TieWordEmbeddings,
    bool QkvBias,
    bool OutputProjectionBias,
    bool MlpBias,
    bool QkNorm)
{
    private static readonly string[] SupportedModelTypes = ["llama", "qwen2", "qwen3"];

    /// <summary>Reads and validates a <c>config.json</c>.</summary>
    /// <exception cref="InvalidDataException">A missing or invalid field, named with the file.</exception>
    /// <exception cref="NotSupportedException">An activation or rope scaling the exporter does not implement.</exception>
    public static CausalLmConfig Load(string configPath)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(configPath));
        return Parse(document.RootElement, configPath);
    }

    /// <summary>Validates an already parsed <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    public static CausalLmConfig Parse(JsonElement root, string source)
    {
        var modelType = OptionalString(root, "model_type", source) ?? "llama";
        if (!SupportedModelTypes.Contains(modelType))
            throw new NotSupportedException($"{source}: model_type '{modelType}' is not supported; expected one of {string.Join(", ", SupportedModelTypes)}.");
        var hiddenAct = OptionalString(root, "hidden_act", source) ?? "silu";
        if (hiddenAct != "silu")
            throw new NotSupportedException($"{source}: hidden_act '{hiddenAct}' is not supported; Llama-family models use 'silu'.");
        if (root.TryGetProperty("rope_scaling", out var ropeScaling) && ropeScaling.ValueKind != JsonValueKind.Null)
            throw new NotSupportedException($"{source}: rope_scaling is not supported; only plain rotary embeddings (rope_theta) are.");

        var hiddenSize = RequiredInt(root, "hidden_size", source);
        var heads = RequiredInt(root, "num_attention_heads", source);
        var kvHeads = OptionalInt(root, "num_key_value_heads", source) ?? heads;
        var headDim = OptionalInt(root, "head_dim", source) ?? (heads > 0 && hiddenSize % heads == 0 ? hiddenSize / heads : 0);
        var attentionBias = OptionalBool(root, "attention_bias", source) ?? false;
        // Qwen2 always has q/k/v biases and no o_proj bias; Llama's attention_bias puts a bias on all four.
        var isQwen2 = modelType == "qwen2";

        var config = new CausalLmConfig(
            ModelType: modelType,
            VocabularySize: RequiredInt(root, "vocab_size", source),
            HiddenSize: hiddenSize,
            IntermediateSize: RequiredInt(root, "intermediate_size", source),
            LayerCount: RequiredInt(root, "num_hidden_layers", source),
            AttentionHeadCount: heads,
            KeyValueHeadCount: kvHeads,
            HeadDim: headDim,
            RmsNormEps: (float)(OptionalDouble(root, "rms_norm_eps", source) ?? 1e-6),
            RopeTheta: OptionalDouble(root, "rope_theta", source) ?? 10000.0,
            MaxPositionEmbeddings: RequiredInt(root, "max_position_embeddings", source),
            TieWordEmbeddings: OptionalBool(root, "tie_word_embeddings", source) ?? false,
            QkvBias: isQwen2 || attentionBias,
            OutputProjectionBias: !isQwen2 && attentionBias,
            MlpBias: OptionalBool(root, "mlp_bias", source) ?? false,
            // Qwen3 RMS-normalizes each query and key head before the rotation.
            QkNorm: modelType == "qwen3");
        config.Validate(source);
        return config;
    }

    /// <summary>Checks that the sizes describe a model that can be built; <paramref name="source"/> names the config in errors.</summary>
    /// <exception cref="InvalidDataException">A size that is not positive or does not divide as attention needs.</exception>
    public void Validate(string source)
    {
        RequirePositive(VocabularySize, "vocab_size");
        RequirePositive(HiddenSize, "hidden_size");
        RequirePositive(IntermediateSize, "intermediate_size");
        RequirePositive(LayerCount, "num_hidden_layers");
        RequirePositive(AttentionHeadCount, "num_attention_heads");
        RequirePositive(KeyValueHeadCount, "num_key_value_heads");
        RequirePositive(MaxPositionEmbeddings, "max_position_embeddings");
        if (HeadDim <= 0 || HeadDim % 2 != 0)
            throw new InvalidDataException($"{source}: head_dim must be a positive even number (rotary embeddings pair its halves), " +
                $"got {HeadDim} (hidden_size {HiddenSize} / num_attention_heads {AttentionHeadCount} when head_dim is absent).");
        if (AttentionHeadCount % KeyValueHeadCount != 0)
            throw new InvalidDataException($"{source}: num_attention_heads ({AttentionHeadCount}) must be a multiple of " +
                $"num_key_value_heads ({KeyValueHeadCount}).");
        if (!(RmsNormEps > 0f))
            throw new InvalidDataException($"{source}: rms_norm_eps must be positive, got {RmsNormEps}.");
        if (!(RopeTheta > 0d))
            throw new InvalidDataException($"{source}: rope_theta must be positive, got {RopeTheta}.");

        void RequirePositive(int value, string field)
        {
            if (value <= 0)
                throw new InvalidDataException($"{source}: {field} must be positive, got {value}.");
        }
    }

    private static int RequiredInt(JsonElement root, string field, string source) =>
        OptionalInt(root, field, source) ?? throw new InvalidDataException($"{source}: required field '{field}' is missing.");

    private static int? OptionalInt(JsonElement root, string field, string source) =>
        Find(root, field, source, JsonValueKind.Number) is { } element
            ? element.TryGetInt32(out var value) ? value : throw OutOfRange(element, field, source)
            : null;

    private static double? OptionalDouble(JsonElement root, string field, string source) =>
        Find(root, field, source, JsonValueKind.Number)?.GetDouble();

    private static string? OptionalString(JsonElement root, string field, string source) =>
        Find(root, field, source, JsonValueKind.String)?.GetString();

    private static bool? OptionalBool(JsonElement root, string field, string source)
    {
        if (!root.TryGetProperty(field, out var element) || element.ValueKind == JsonValueKind.Null)
            return null;
        return element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{source}: field '{field}' must be true or false, got {element.ValueKind}."),
        };
    }

    /// <summary>The field's value when present and not null; the wrong JSON kind is an error naming the field.</summary>
    private static JsonElement? Find(JsonElement root, string field, string source, JsonValueKind kind)
    {
        if (!root.TryGetProperty(field, out var element) || element.ValueKind == JsonValueKind.Null)
            return null;
        if (element.ValueKind != kind)
            throw new InvalidDataException($"{source}: field '{field}' must be a {kind}, got {element.ValueKind}.");
        return element;
    }

    private static InvalidDataException OutOfRange(JsonElement element, string field, string source) =>
        new($"{source}: field '{field}' is not a 32-bit integer: {element.GetRawText()}.");
}
