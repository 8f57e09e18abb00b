using Distill.Core.Modeling;
using Distill.Core.Tokenization;
using TorchSharp;

namespace Distill.Testing;

/// <summary>
/// Small random Llama-family models for tests, the one set every test project draws from: seeded, and with large
/// weights so next-token distributions are peaked (the models' own 0.02 initialisation gives near-uniform log-probs
/// that would hide errors).
/// </summary>
public static class TinyModels
{
    /// <summary>A two-layer model over a 32-symbol vocabulary with grouped-query attention (4 query heads, 2 key/value heads).</summary>
    public static LlamaConfig Config(string modelType = LlamaConfig.Llama, bool tied = false, bool attentionBias = false) => new()
    {
        ModelType = modelType,
        VocabSize = 32,
        HiddenSize = 32,
        IntermediateSize = 64,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        HeadDim = 8,
        MaxPositionEmbeddings = 64,
        RmsNormEps = 1e-5,
        TieWordEmbeddings = tied,
        AttentionBias = attentionBias,
        BosTokenId = 1,
        EosTokenIds = [2],
        TorchDtype = "float32",
        InitializerRange = 0.3,
    };

    /// <summary>
    /// The same shape over the char tokenizer's symbols (what the default models use), so a checkpoint of it can be
    /// served, trained and evaluated on the generated task.
    /// </summary>
    /// <param name="maxContext">The longest prompt and completion together.</param>
    /// <param name="vocabularySize">The config's vocab_size; above the char tokenizer's 64 it pads the vocabulary, as Qwen2.5's configs do.</param>
    public static LlamaConfig CharConfig(int maxContext = 64, int? vocabularySize = null) => Config() with
    {
        VocabSize = vocabularySize ?? CharTokenizer.Default.VocabularySize,
        MaxPositionEmbeddings = maxContext,
        BosTokenId = null,
        EosTokenIds = [CharTokenizer.EosId],
    };

    /// <summary>The model of <paramref name="config"/> (by default <see cref="Config"/>) with weights drawn from <paramref name="seed"/>, in eval mode.</summary>
    public static LlamaForCausalLM Create(LlamaConfig? config = null, long seed = 1234)
    {
        torch.manual_seed(seed);
        var model = new LlamaForCausalLM(config ?? Config(), initializationSeed: seed);
        model.eval();
        return model;
    }

    /// <summary>A checkpoint directory of <see cref="CharConfig"/>'s shape with the char tokenizer beside it, as the trainer writes one.</summary>
    public static void SaveCharCheckpoint(string directory, long seed, LlamaConfig? config = null)
    {
        // Drawn from the seed alone (not libtorch's global generator, which tests running in parallel share).
        config ??= CharConfig();
        using var model = new LlamaForCausalLM(config, initializationSeed: seed);
        ModelCheckpoint.Save(directory, model, config, CharTokenizer.Default.ToFiles());
    }

    // Hugging Face config.json files of each supported architecture, for the tests that read configs as shipped.

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

    /// <summary>Llama 3.1-style rope scaling: low frequencies divided by the factor, a blend in between.</summary>
    public const string Llama3RopeScaling = """
        {"model_type": "llama", "vocab_size": 40, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
         "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 16},
         "max_position_embeddings": 64, "hidden_act": "silu", "tie_word_embeddings": false}
        """;

    /// <summary>Llama whose output projection is the embedding matrix.</summary>
    public const string TiedLlama = """
        {"model_type": "llama", "vocab_size": 40, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 4, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "max_position_embeddings": 64, "hidden_act": "silu", "tie_word_embeddings": true}
        """;

    public static LlamaConfig WriteConfig(string directory, string json)
    {
        var path = Path.Combine(directory, ModelCheckpoint.ConfigFileName);
        File.WriteAllText(path, json);
        return LlamaConfig.Load(path);
    }

    /// <summary>
    /// The torch model with seeded random weights, scaled so that logits stay in a range where attention and softmax
    /// are not saturated (the model's own 0.02 initialization gives near-uniform log-probs that would hide errors).
    /// </summary>
    public static LlamaForCausalLM RandomModel(LlamaConfig config, long seed)
    {
        var model = new LlamaForCausalLM(config, torch.CPU, torch.float32);
        var generator = new torch.Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            using var noise = torch.randn(parameter.shape, generator: generator);
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
                parameter.copy_(noise.mul_(0.1).add_(1.0));
            else
                parameter.copy_(noise.mul_(name.EndsWith(".bias", StringComparison.Ordinal) ? 0.1 : 0.3));
        }
        model.eval();
        return model;
    }

    /// <summary>A copy of the model's state dict that a test may change; dispose with <see cref="Dispose"/>.</summary>
    public static Dictionary<string, torch.Tensor> StateDictCopy(LlamaForCausalLM model) =>
        model.state_dict().ToDictionary(pair => pair.Key, pair => pair.Value.detach().clone());

    public static void Dispose(Dictionary<string, torch.Tensor> stateDict)
    {
        foreach (var tensor in stateDict.Values)
            tensor.Dispose();
    }
}
