using Distill.Core.Modeling;
using Distill.Core.Safetensors;
using Distill.Core.Tests.Safetensors;
using TorchSharp;

namespace Distill.Core.Tests.Modeling;

public sealed class ModelCheckpointTests : IDisposable
{
    private readonly TemporaryDirectory temporary = new();
    private string directory => temporary.Path;

    public void Dispose() => temporary.Dispose();

    private const string TinyQwen2ConfigJson = """
        {
          "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 32, "hidden_size": 32,
          "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
          "max_position_embeddings": 64, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "rope_scaling": null,
          "tie_word_embeddings": true, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
          "use_sliding_window": false, "sliding_window": 64, "max_window_layers": 2, "torch_dtype": "float32",
          "attention_dropout": 0.0, "initializer_range": 0.02, "use_cache": true, "transformers_version": "4.43.1"
        }
        """;

    [Fact]
    public void LoadsADirectoryWrittenByHandWithHuggingFaceNames()
    {
        var checkpoint = Path.Combine(directory, "qwen2");
        Directory.CreateDirectory(checkpoint);
        File.WriteAllText(Path.Combine(checkpoint, "config.json"), TinyQwen2ConfigJson);
        using var reference = TinyModels.Create(LlamaConfig.Load(Path.Combine(checkpoint, "config.json")) with { InitializerRange = 0.3 });
        // Each name spelled out as Hugging Face's Qwen2 checkpoints have it; the values come from a reference model.
        var referenceState = reference.state_dict();
        var entries = new List<HandWrittenSafetensors.Entry>();
        foreach (var name in HuggingFaceQwen2Names(layers: 2))
        {
            var tensor = referenceState[name];
            entries.Add(HandWrittenSafetensors.Float32(name, tensor.shape, tensor.data<float>().ToArray()));
        }
        HandWrittenSafetensors.Write(Path.Combine(checkpoint, "model.safetensors"), entries);

        var (config, model) = ModelCheckpoint.Load(checkpoint, torch.CPU);
        using var loaded = model;

        Assert.True(config.TieWordEmbeddings);
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 1, 4, 9, 16, 25 }).reshape(1, 5);
        Assert.True(torch.allclose(reference.forward(ids), model.forward(ids), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void SaveThenLoadRoundTripsInBfloat16WithShardsAndExtraFiles()
    {
        using var original = TinyModels.Create();
        var checkpoint = Path.Combine(directory, "student");
        var tokenizer = "{\"model\": {}}"u8.ToArray();

        ModelCheckpoint.Save(checkpoint, original, original.Config, new Dictionary<string, byte[]> { ["tokenizer.json"] = tokenizer },
            torch.ScalarType.BFloat16, maxShardBytes: 8_000);
        ModelCheckpoint.Save(checkpoint, original, original.Config, new Dictionary<string, byte[]> { ["tokenizer.json"] = tokenizer },
            torch.ScalarType.BFloat16, maxShardBytes: 8_000);

        Assert.Equal(tokenizer, File.ReadAllBytes(Path.Combine(checkpoint, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(checkpoint, ModelCheckpoint.IndexFileName)));
        Assert.Contains(Directory.GetFiles(checkpoint), file => Path.GetFileName(file).StartsWith("model-00001-of-", StringComparison.Ordinal));
        Assert.Equal(["student"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
        Assert.Equal("bfloat16", LlamaConfig.Load(Path.Combine(checkpoint, "config.json")).TorchDtype);
        Assert.All(StoredTensors.LoadSharded(Path.Combine(checkpoint, ModelCheckpoint.IndexFileName)).Values,
            tensor => Assert.Equal(torch.ScalarType.BFloat16, tensor.dtype));

        using var loaded = ModelCheckpoint.Load(checkpoint, torch.CPU).Model;
        Assert.Equal(torch.ScalarType.Float32, loaded.DType);
        var originalState = original.state_dict();
        foreach (var (name, tensor) in loaded.state_dict())
        {
            using var expected = originalState[name].to(torch.ScalarType.BFloat16).to(torch.ScalarType.Float32);
            Assert.True(torch.equal(expected, tensor).all().item<bool>(), name);
        }
    }

    [Fact]
    public void LoadsIntoBfloat16WhenAskedAndStaysCloseToFloat32()
    {
        using var original = TinyModels.Create();
        var checkpoint = Path.Combine(directory, "bf16");
        ModelCheckpoint.Save(checkpoint, original, original.Config);

        using var model = ModelCheckpoint.Load(checkpoint, torch.CPU, torch.ScalarType.BFloat16).Model;
        using var moved = ModelCheckpoint.Load(checkpoint, torch.CPU).Model;
        moved.to(torch.ScalarType.BFloat16);

        Assert.Equal(torch.ScalarType.BFloat16, model.DType);
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 1, 4, 9, 16 }).reshape(1, 4);
        var expected = original.forward(ids).softmax(-1);
        Assert.True((model.forward(ids).to(torch.ScalarType.Float32).softmax(-1) - expected).abs().max().item<float>() < 0.05f);
        Assert.True((moved.forward(ids).to(torch.ScalarType.Float32).softmax(-1) - expected).abs().max().item<float>() < 0.05f);
    }

    [Fact]
    public void MissingTensorIsReportedWithFileAndTensor()
    {
        var checkpoint = SaveTiny(state => state.Remove("model.layers.1.mlp.up_proj.weight"));

        var error = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(checkpoint, torch.CPU));
        Assert.Contains("model.safetensors", error.Message);
        Assert.Contains("model.layers.1.mlp.up_proj.weight", error.Message);
    }

    [Fact]
    public void ShapeMismatchIsReportedWithFileAndTensor()
    {
        var checkpoint = SaveTiny(state => state["model.norm.weight"] = torch.ones(31));

        var error = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(checkpoint, torch.CPU));
        Assert.Contains("model.safetensors", error.Message);
        Assert.Contains("model.norm.weight", error.Message);
        Assert.Contains("[31]", error.Message);
    }

    [Fact]
    public void UnexpectedTensorIsReportedWithFileAndTensor()
    {
        var checkpoint = SaveTiny(state => state["model.layers.0.self_attn.o_proj.bias"] = torch.zeros(32));

        var error = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(checkpoint, torch.CPU));
        Assert.Contains("model.safetensors", error.Message);
        Assert.Contains("model.layers.0.self_attn.o_proj.bias", error.Message);
    }

    [Fact]
    public void MalformedConfigIsReportedWithFileAndField()
    {
        var checkpoint = SaveTiny(_ => { });
        File.WriteAllText(Path.Combine(checkpoint, "config.json"), File.ReadAllText(Path.Combine(checkpoint, "config.json"))
            .Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": -2"));

        var error = Assert.Throws<ModelConfigException>(() => ModelCheckpoint.Load(checkpoint, torch.CPU));
        Assert.Contains("config.json", error.Message);
        Assert.Contains("num_hidden_layers", error.Message);
    }

    private string SaveTiny(Action<Dictionary<string, torch.Tensor>> edit)
    {
        using var model = TinyModels.Create();
        var checkpoint = Path.Combine(directory, "edited");
        Directory.CreateDirectory(checkpoint);
        model.Config.Save(Path.Combine(checkpoint, "config.json"));
        var state = new Dictionary<string, torch.Tensor>(model.state_dict());
        edit(state);
        SafetensorsFile.Save(Path.Combine(checkpoint, "model.safetensors"), state);
        return checkpoint;
    }

    private static IEnumerable<string> HuggingFaceQwen2Names(int layers)
    {
        yield return "model.embed_tokens.weight";
        for (int i = 0; i < layers; i++)
        {
            foreach (var projection in new[] { "q_proj", "k_proj", "v_proj" })
            {
                yield return $"model.layers.{i}.self_attn.{projection}.weight";
                yield return $"model.layers.{i}.self_attn.{projection}.bias";
            }
            yield return $"model.layers.{i}.self_attn.o_proj.weight";
            yield return $"model.layers.{i}.mlp.gate_proj.weight";
            yield return $"model.layers.{i}.mlp.up_proj.weight";
            yield return $"model.layers.{i}.mlp.down_proj.weight";
            yield return $"model.layers.{i}.input_layernorm.weight";
            yield return $"model.layers.{i}.post_attention_layernorm.weight";
        }
        yield return "model.norm.weight";
    }
}
