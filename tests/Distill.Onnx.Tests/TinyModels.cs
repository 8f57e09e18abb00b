using Distill.Onnx;
using TorchSharp;

namespace Distill.Onnx.Tests;

/// <summary>Randomly initialized Llama-family models small enough to export and run in a test.</summary>
internal static class TinyModels
{
    /// <summary>Llama with grouped-query attention: 4 query heads share 2 key/value heads.</summary>
    public const string Llama = """
        {"model_type": "llama", "vocab_size": 40, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "max_position_embeddings": 64, "hidden_act": "silu", "tie_word_embeddings": false}
        """;

    /// <summary>Qwen2: biases on q/k/v (none on o_proj).</summary>
    public const string Qwen2 = """
        {"model_type": "qwen2", "vocab_size": 40, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
         "max_position_embeddings": 64, "hidden_act": "silu", "tie_word_embeddings": false}
        """;

    /// <summary>Qwen3: per-head RMS norms on queries and keys, an explicit head_dim that is not hidden / heads, tied embeddings.</summary>
    public const string Qwen3 = """
        {"model_type": "qwen3", "vocab_size": 40, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
         "max_position_embeddings": 64, "hidden_act": "silu", "tie_word_embeddings": true}
        """;

    /// <summary>Llama whose output projection is the embedding matrix.</summary>
    public const string TiedLlama = """
        {"model_type": "llama", "vocab_size": 40, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 4, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "max_position_embeddings": 64, "hidden_act": "silu", "tie_word_embeddings": true}
        """;

    public static string WriteConfig(string directory, string json)
    {
        var path = Path.Combine(directory, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>
    /// A state dict with every tensor the config implies, scaled so that logits stay in a range where the attention
    /// and softmax are not saturated (a comparison of saturated log-probs would hide errors).
    /// </summary>
    public static Dictionary<string, torch.Tensor> RandomStateDict(CausalLmConfig config, long seed)
    {
        var generator = new torch.Generator((ulong)seed);
        var stateDict = new Dictionary<string, torch.Tensor>();
        foreach (var (name, shape) in OnnxCausalLmExporter.ExpectedTensors(config))
        {
            var noise = torch.randn(shape, generator: generator);
            stateDict[name] = name.EndsWith("norm.weight", StringComparison.Ordinal)
                ? noise.mul_(0.1).add_(1.0)
                : noise.mul_(name.EndsWith(".bias", StringComparison.Ordinal) ? 0.1 : 0.3);
        }
        return stateDict;
    }

    public static void Dispose(Dictionary<string, torch.Tensor> stateDict)
    {
        foreach (var tensor in stateDict.Values)
            tensor.Dispose();
    }
}
