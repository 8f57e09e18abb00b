using Distill.Core.Modeling;

namespace Distill.Core.Tests.Modeling;

public sealed class LlamaConfigTests : IDisposable
{
    private readonly TemporaryDirectory temporary = new();
    private string directory => temporary.Path;

    public void Dispose() => temporary.Dispose();

    [Fact]
    public void ReadsAHuggingFaceLlama31ConfigWithDefaults()
    {
        var path = Write("""
            {
              "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
              "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
              "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
              "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                               "original_max_position_embeddings": 8192, "rope_type": "llama3"},
              "tie_word_embeddings": true, "hidden_act": "silu", "bos_token_id": 128000,
              "eos_token_id": [128001, 128008, 128009], "torch_dtype": "bfloat16", "transformers_version": "4.45.0"
            }
            """);

        var config = LlamaConfig.Load(path);

        Assert.Equal(64, config.HeadDim);
        Assert.Equal(8, config.NumKeyValueHeads);
        Assert.Equal(new[] { 128001, 128008, 128009 }, config.EosTokenIds);
        Assert.Equal(new RopeScaling(RopeScaling.Llama3, 32, 1, 4, 8192), config.RopeScaling);
        Assert.False(config.HasQkvBias);
        Assert.Equal("bfloat16", config.TorchDtype);
    }

    [Fact]
    public void SaveThenLoadGivesTheSameConfig()
    {
        var config = TinyModels.Config(LlamaConfig.Qwen2) with
        {
            RopeScaling = new RopeScaling(RopeScaling.Llama3, 8, 1, 4, 32),
            EosTokenIds = [2, 3],
        };
        var path = Path.Combine(directory, "config.json");
        config.Save(path);

        var loaded = LlamaConfig.Load(path);
        Assert.Equal(config.EosTokenIds, loaded.EosTokenIds);
        Assert.Equal(config, loaded with { EosTokenIds = config.EosTokenIds });
        Assert.True(loaded.HasQkvBias);
        Assert.False(loaded.HasOutputBias);
    }

    [Theory]
    [InlineData("{\"model_type\": \"llama\", \"vocab_size\": 32,", "(root)")]
    [InlineData("{\"model_type\": \"llama\", \"vocab_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4}", "hidden_size")]
    [InlineData("{\"model_type\": \"llama\", \"vocab_size\": 32, \"hidden_size\": \"big\", \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4}", "hidden_size")]
    [InlineData("{\"model_type\": \"gpt2\", \"vocab_size\": 32, \"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4}", "model_type")]
    [InlineData("{\"model_type\": \"llama\", \"vocab_size\": 32, \"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"num_key_value_heads\": 3}", "num_key_value_heads")]
    [InlineData("{\"model_type\": \"llama\", \"vocab_size\": 32, \"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"hidden_act\": \"gelu\"}", "hidden_act")]
    [InlineData("{\"model_type\": \"llama\", \"vocab_size\": 32, \"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}}", "rope_scaling.rope_type")]
    [InlineData("{\"model_type\": \"llama\", \"vocab_size\": 32, \"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 4}}", "rope_scaling.low_freq_factor")]
    [InlineData("{\"model_type\": \"llama\", \"vocab_size\": 32, \"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"eos_token_id\": [2, \"x\"]}", "eos_token_id")]
    public void InvalidConfigNamesTheFileAndTheField(string json, string field)
    {
        var path = Write(json);

        var error = Assert.Throws<ModelConfigException>(() => LlamaConfig.Load(path));
        Assert.Equal(field, error.Field);
        Assert.Contains("config.json", error.Message);
        Assert.Contains($"'{field}'", error.Message);
    }

    private string Write(string json)
    {
        var path = Path.Combine(directory, "config.json");
        File.WriteAllText(path, json);
        return path;
    }
}
