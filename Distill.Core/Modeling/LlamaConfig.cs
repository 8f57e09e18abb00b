using System.Text.Json;
using Distill.Core.Safetensors;

namespace Distill.Core.Modeling;

/// <summary>
/// The architecture of a Llama-family decoder as a Hugging Face <c>config.json</c> describes it. Llama, Qwen2 and Qwen3
/// share the block; they differ in attention biases (Qwen2: always on q/k/v, never on o) and Qwen3's per-head q/k norms.
/// </summary>
public sealed record LlamaConfig
{
    public const string Llama = "llama";
    public const string Qwen2 = "qwen2";
    public const string Qwen3 = "qwen3";

    public static readonly IReadOnlyList<string> SupportedModelTypes = [Llama, Qwen2, Qwen3];

    public required string ModelType { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public RopeScaling? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Llama and Qwen3: biases on q, k, v and o. Qwen2 ignores it (see <see cref="HasQkvBias"/>).</summary>
    public bool AttentionBias { get; init; }

    public string HiddenAct { get; init; } = "silu";
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }

    /// <summary>The dtype the weights were saved in, as Hugging Face names it (float32, bfloat16, float16).</summary>
    public string? TorchDtype { get; init; }

    public double InitializerRange { get; init; } = 0.02;

    public bool HasQkvBias => ModelType == Qwen2 || AttentionBias;
    public bool HasOutputBias => ModelType != Qwen2 && AttentionBias;
    public bool HasQkNorm => ModelType == Qwen3;

    /// <summary>Reads and validates a Hugging Face <c>config.json</c>.</summary>
    /// <exception cref="ModelConfigException">Malformed JSON or a missing or invalid field; names the file and the field.</exception>
    public static LlamaConfig Load(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException error)
        {
            throw new ModelConfigException(path, "(root)", $"cannot be read: the file is not valid JSON ({error.Message}).", error);
        }

        using (document)
        {
            var config = new ConfigJsonReader(path, document.RootElement).ReadConfig();
            config.Validate(path);
            return config;
        }
    }

    /// <summary>Writes a config.json that Hugging Face transformers loads (atomically).</summary>
    public void Save(string path) => AtomicWrite.WriteFile(path, ToJsonBytes());

    public byte[] ToJsonBytes()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("architectures");
            json.WriteStringValue(ModelType switch { Qwen2 => "Qwen2ForCausalLM", Qwen3 => "Qwen3ForCausalLM", _ => "LlamaForCausalLM" });
            json.WriteEndArray();
            json.WriteString("model_type", ModelType);
            json.WriteNumber("vocab_size", VocabSize);
            json.WriteNumber("hidden_size", HiddenSize);
            json.WriteNumber("intermediate_size", IntermediateSize);
            json.WriteNumber("num_hidden_layers", NumHiddenLayers);
            json.WriteNumber("num_attention_heads", NumAttentionHeads);
            json.WriteNumber("num_key_value_heads", NumKeyValueHeads);
            json.WriteNumber("head_dim", HeadDim);
            json.WriteNumber("max_position_embeddings", MaxPositionEmbeddings);
            json.WriteNumber("rms_norm_eps", RmsNormEps);
            json.WriteNumber("rope_theta", RopeTheta);
            if (RopeScaling is { } scaling)
            {
                json.WriteStartObject("rope_scaling");
                json.WriteString("rope_type", scaling.RopeType);
                json.WriteNumber("factor", scaling.Factor);
                if (scaling.LowFreqFactor is { } low)
                    json.WriteNumber("low_freq_factor", low);
                if (scaling.HighFreqFactor is { } high)
                    json.WriteNumber("high_freq_factor", high);
                if (scaling.OriginalMaxPositionEmbeddings is { } original)
                    json.WriteNumber("original_max_position_embeddings", original);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("rope_scaling");
            }
            json.WriteBoolean("tie_word_embeddings", TieWordEmbeddings);
            if (ModelType != Qwen2)
                json.WriteBoolean("attention_bias", AttentionBias);
            json.WriteString("hidden_act", HiddenAct);
            WriteOptionalInt(json, "bos_token_id", BosTokenId);
            if (EosTokenIds.Count == 1)
            {
                json.WriteNumber("eos_token_id", EosTokenIds[0]);
            }
            else if (EosTokenIds.Count > 1)
            {
                json.WriteStartArray("eos_token_id");
                foreach (var id in EosTokenIds)
                    json.WriteNumberValue(id);
                json.WriteEndArray();
            }
            WriteOptionalInt(json, "pad_token_id", PadTokenId);
            if (TorchDtype is not null)
                json.WriteString("torch_dtype", TorchDtype);
            json.WriteNumber("initializer_range", InitializerRange);
            json.WriteBoolean("use_cache", true);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Checks the fields are consistent with each other and with what this implementation supports.</summary>
    /// <param name="source">Where the config came from (its path), used in the error.</param>
    /// <exception cref="ModelConfigException">Names the first invalid field.</exception>
    public void Validate(string source)
    {
        if (!SupportedModelTypes.Contains(ModelType))
            throw new ModelConfigException(source, "model_type", $"is '{ModelType}'; supported: {string.Join(", ", SupportedModelTypes)}.");
        RequirePositive(source, "vocab_size", VocabSize);
        RequirePositive(source, "hidden_size", HiddenSize);
        RequirePositive(source, "intermediate_size", IntermediateSize);
        RequirePositive(source, "num_hidden_layers", NumHiddenLayers);
        RequirePositive(source, "num_attention_heads", NumAttentionHeads);
        RequirePositive(source, "num_key_value_heads", NumKeyValueHeads);
        RequirePositive(source, "head_dim", HeadDim);
        RequirePositive(source, "max_position_embeddings", MaxPositionEmbeddings);
        if (NumAttentionHeads % NumKeyValueHeads != 0)
            throw new ModelConfigException(source, "num_key_value_heads", $"({NumKeyValueHeads}) must divide num_attention_heads ({NumAttentionHeads}).");
        if (HeadDim % 2 != 0)
            throw new ModelConfigException(source, "head_dim", $"({HeadDim}) must be even for rotary embeddings.");
        if (!(RmsNormEps > 0))
            throw new ModelConfigException(source, "rms_norm_eps", $"must be positive, got {RmsNormEps}.");
        if (!(RopeTheta > 0))
            throw new ModelConfigException(source, "rope_theta", $"must be positive, got {RopeTheta}.");
        if (HiddenAct != "silu")
            throw new ModelConfigException(source, "hidden_act", $"is '{HiddenAct}'; only 'silu' (SwiGLU) is supported.");
        if (!(InitializerRange >= 0))
            throw new ModelConfigException(source, "initializer_range", $"must be non-negative, got {InitializerRange}.");
        CheckTokenId(source, "bos_token_id", BosTokenId);
        CheckTokenId(source, "pad_token_id", PadTokenId);
        foreach (var id in EosTokenIds)
            CheckTokenId(source, "eos_token_id", id);
        if (TorchDtype is not null && !TorchDtypes.Contains(TorchDtype))
            throw new ModelConfigException(source, "torch_dtype", $"is '{TorchDtype}'; expected one of {string.Join(", ", TorchDtypes)}.");
        ValidateRopeScaling(source);
    }

    internal static readonly IReadOnlyList<string> TorchDtypes = ["float32", "float16", "bfloat16"];

    private void ValidateRopeScaling(string source)
    {
        if (RopeScaling is not { } scaling)
            return;
        if (!RopeScaling.SupportedTypes.Contains(scaling.RopeType))
            throw new ModelConfigException(source, "rope_scaling.rope_type",
                $"is '{scaling.RopeType}'; supported: {string.Join(", ", RopeScaling.SupportedTypes)} (or no rope_scaling).");
        if (!(scaling.Factor > 0))
            throw new ModelConfigException(source, "rope_scaling.factor", $"must be positive, got {scaling.Factor}.");
        if (scaling.RopeType != RopeScaling.Llama3)
            return;
        if (scaling.LowFreqFactor is not > 0)
            throw new ModelConfigException(source, "rope_scaling.low_freq_factor", "must be a positive number for rope_type llama3.");
        if (scaling.HighFreqFactor is not { } high || high <= scaling.LowFreqFactor)
            throw new ModelConfigException(source, "rope_scaling.high_freq_factor", "must be a number above low_freq_factor for rope_type llama3.");
        if (scaling.OriginalMaxPositionEmbeddings is not > 0)
            throw new ModelConfigException(source, "rope_scaling.original_max_position_embeddings", "must be a positive integer for rope_type llama3.");
    }

    private void CheckTokenId(string source, string field, int? id)
    {
        if (id is { } value && (value < 0 || value >= VocabSize))
            throw new ModelConfigException(source, field, $"({value}) is outside the vocabulary [0, {VocabSize}).");
    }

    private static void RequirePositive(string source, string field, int value)
    {
        if (value <= 0)
            throw new ModelConfigException(source, field, $"must be a positive integer, got {value}.");
    }

    private static void WriteOptionalInt(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } number)
            json.WriteNumber(name, number);
        else
            json.WriteNull(name);
    }
}
