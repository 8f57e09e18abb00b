using Distill.Core.Modeling;
using TorchSharp;

namespace Distill.Core.Tests.Modeling;

public class LlamaForCausalLMTests
{
    [Fact]
    public void ParameterNamesAreHuggingFaceStateDictNames()
    {
        using var model = TinyModels.Create();
        var names = model.state_dict().Keys.ToHashSet();
        string[] expected =
        [
            "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
            "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
            "model.layers.1.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
            "model.layers.1.mlp.gate_proj.weight", "model.layers.1.mlp.up_proj.weight", "model.layers.1.mlp.down_proj.weight",
            "model.layers.1.input_layernorm.weight", "model.layers.1.post_attention_layernorm.weight",
        ];
        Assert.Subset(names, expected.ToHashSet());
        Assert.Equal(3 + 2 * 9, names.Count);
    }

    [Fact]
    public void ASeededInitialisationIsTheSameWhateverLibtorchsGeneratorDoes()
    {
        torch.manual_seed(1);
        using var first = new LlamaForCausalLM(TinyModels.Config(), initializationSeed: 7);
        torch.manual_seed(2);
        _ = torch.randn(1000);
        using var second = new LlamaForCausalLM(TinyModels.Config(), initializationSeed: 7);
        using var other = new LlamaForCausalLM(TinyModels.Config(), initializationSeed: 8);

        var secondParameters = second.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in first.named_parameters())
            Assert.True(parameter.eq(secondParameters[name]).all().item<bool>(), name);
        var head = first.named_parameters().Single(p => p.name == "lm_head.weight").parameter;
        var otherHead = other.named_parameters().Single(p => p.name == "lm_head.weight").parameter;
        Assert.False(head.eq(otherHead).all().item<bool>());

        // The draws are normal(0, initializer_range), and the values are the ones this seed gives on any machine: the
        // default models' bootstrap depends on it (libtorch's normal_ differs between AVX2 and AVX-512 CPUs).
        var weights = head.data<float>().ToArray();
        Assert.InRange(weights.Average(), -0.02, 0.02);
        Assert.InRange(Math.Sqrt(weights.Average(w => (double)w * w)), 0.27, 0.33);
        Assert.Equal(Pinned, weights[..3], (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    private static readonly float[] Pinned = [0.16229248f, -0.198083609f, 0.17483218f];

    [Fact]
    public void TiedEmbeddingsHaveNoLmHeadAndReuseTheEmbedding()
    {
        using var model = TinyModels.Create(TinyModels.Config(tied: true));
        var state = model.state_dict();
        Assert.DoesNotContain("lm_head.weight", state.Keys);

        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 3, 4 }).reshape(1, 2);
        var hidden = model.HiddenStates(ids);
        var expected = torch.matmul(hidden, state["model.embed_tokens.weight"].t());
        Assert.True(torch.allclose(model.forward(ids), expected, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Qwen2HasQkvBiasButNoOutputBias()
    {
        using var model = TinyModels.Create(TinyModels.Config(LlamaConfig.Qwen2));
        var names = model.state_dict().Keys.ToHashSet();
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", names);
        Assert.Contains("model.layers.0.self_attn.k_proj.bias", names);
        Assert.Contains("model.layers.0.self_attn.v_proj.bias", names);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", names);
    }

    [Fact]
    public void LlamaAttentionBiasAndQwen3NormsAddTheirTensors()
    {
        using var llama = TinyModels.Create(TinyModels.Config(attentionBias: true));
        Assert.Contains("model.layers.0.self_attn.o_proj.bias", llama.state_dict().Keys);

        using var qwen3 = TinyModels.Create(TinyModels.Config(LlamaConfig.Qwen3));
        var names = qwen3.state_dict().Keys.ToHashSet();
        Assert.Contains("model.layers.0.self_attn.q_norm.weight", names);
        Assert.Contains("model.layers.0.self_attn.k_norm.weight", names);
        Assert.DoesNotContain("model.layers.0.self_attn.q_proj.bias", names);
    }

    [Fact]
    public void StepByStepDecodingWithKvCacheMatchesFullForward()
    {
        using var model = TinyModels.Create(TinyModels.Config(LlamaConfig.Qwen2));
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 1, 5, 9, 3, 7, 11, 2, 4 }).reshape(1, 8);
        var full = model.forward(ids);

        using var cache = model.CreateKvCache();
        var prefix = model.forward(ids.narrow(1, 0, 3), cache: cache);
        var steps = new List<torch.Tensor> { prefix };
        for (int t = 3; t < 8; t++)
            steps.Add(model.forward(ids.narrow(1, t, 1), cache: cache));

        var stepwise = torch.cat(steps, 1);
        Assert.True((full - stepwise).abs().max().item<float>() < 1e-4f);
    }

    [Fact]
    public void LeftPaddedBatchMatchesEachRowAloneAlsoWithKvCache()
    {
        using var model = TinyModels.Create();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        long[] longRow = [1, 5, 9, 3, 7, 11];
        long[] shortRow = [1, 8, 6];
        const long pad = 0;
        var ids = torch.tensor(longRow.Concat(new[] { pad, pad, pad }).Concat(shortRow).ToArray()).reshape(2, 6);
        var mask = torch.tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1 }).reshape(2, 6);

        var batched = model.forward(ids, mask);
        var longAlone = model.forward(torch.tensor(longRow).reshape(1, 6));
        var shortAlone = model.forward(torch.tensor(shortRow).reshape(1, 3));
        Assert.True((batched[0] - longAlone[0]).abs().max().item<float>() < 1e-4f);
        Assert.True((batched[1].narrow(0, 3, 3) - shortAlone[0]).abs().max().item<float>() < 1e-4f);
        Assert.False(batched.isnan().any().item<bool>());

        using var cache = model.CreateKvCache();
        var steps = new List<torch.Tensor> { model.forward(ids.narrow(1, 0, 4), mask.narrow(1, 0, 4), cache) };
        for (int t = 4; t < 6; t++)
            steps.Add(model.forward(ids.narrow(1, t, 1), mask.narrow(1, t, 1), cache));
        var stepwise = torch.cat(steps, 1);
        var realPositions = mask.to(torch.ScalarType.Bool).unsqueeze(-1);
        Assert.True((batched - stepwise).masked_fill(realPositions.logical_not(), 0).abs().max().item<float>() < 1e-4f);
    }

    [Fact]
    public void Llama3RopeScalingChangesOnlyLowFrequencies()
    {
        var scaling = new RopeScaling(RopeScaling.Llama3, Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192);
        double[] frequencies = [1.0, 1e-2, 2 * Math.PI / 4000, 1e-5];
        var scaled = scaling.Apply(frequencies);
        Assert.Equal(1.0, scaled[0]);
        Assert.Equal(1e-2, scaled[1]);
        // Wavelength 4000 sits between 8192/4 and 8192/1: smooth = (8192/4000 - 1) / 3.
        double smooth = (8192.0 / 4000 - 1) / 3;
        Assert.Equal((1 - smooth) * frequencies[2] / 8 + smooth * frequencies[2], scaled[2], 12);
        Assert.Equal(1e-5 / 8, scaled[3], 15);
    }
}
