using Distill.Core.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Tests.Modeling;

/// <summary>
/// Checks the model against the Llama equations written out independently here: float64, one head at a time, rotary
/// embeddings as explicit pair rotations, attention as an explicit masked softmax. Only the weights are shared.
/// </summary>
public class ReferenceForwardTests
{
    [Theory]
    [InlineData(LlamaConfig.Llama)]
    [InlineData(LlamaConfig.Qwen2)]
    public void ModelMatchesAnIndependentFloat64Implementation(string modelType)
    {
        var config = TinyModels.Config(modelType) with { RopeTheta = 500 };
        using var model = TinyModels.Create(config);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long[] ids = [1, 7, 3, 30, 12, 5];

        var expected = ReferenceLogits(model.state_dict(), config, ids);
        var actual = model.forward(tensor(ids).reshape(1, ids.Length))[0].to(ScalarType.Float64);

        Assert.True((expected - actual).abs().max().item<double>() < 1e-4);
    }

    private static Tensor ReferenceLogits(Dictionary<string, Tensor> state, LlamaConfig config, long[] ids)
    {
        int length = ids.Length, headDim = config.HeadDim, half = headDim / 2;
        int heads = config.NumAttentionHeads, groupSize = heads / config.NumKeyValueHeads;
        Tensor Weight(string name) => state[name].to(ScalarType.Float64);
        Tensor Norm(Tensor x, string name) => x / (x.pow(2).mean([-1], keepdim: true) + config.RmsNormEps).sqrt() * Weight(name);
        Tensor Project(Tensor x, string name) =>
            state.ContainsKey(name + ".bias") ? x.matmul(Weight(name + ".weight").t()) + Weight(name + ".bias") : x.matmul(Weight(name + ".weight").t());

        var angles = new double[length * half];
        for (int position = 0; position < length; position++)
            for (int i = 0; i < half; i++)
                angles[position * half + i] = position * Math.Pow(config.RopeTheta, -2.0 * i / headDim);
        var angleTable = tensor(angles).reshape(length, half);
        Tensor Rotate(Tensor x)
        {
            var (a, b) = (x.narrow(1, 0, half), x.narrow(1, half, half));
            return cat([a * angleTable.cos() - b * angleTable.sin(), b * angleTable.cos() + a * angleTable.sin()], 1);
        }

        var future = ones(length, length, dtype: ScalarType.Bool).triu(1);
        var x = Weight("model.embed_tokens.weight").index_select(0, tensor(ids));
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            var prefix = $"model.layers.{layer}";
            var h = Norm(x, $"{prefix}.input_layernorm.weight");
            var (q, k, v) = (Project(h, $"{prefix}.self_attn.q_proj"), Project(h, $"{prefix}.self_attn.k_proj"), Project(h, $"{prefix}.self_attn.v_proj"));
            var headOutputs = new List<Tensor>();
            for (int head = 0; head < heads; head++)
            {
                int kvHead = head / groupSize;
                var qh = Rotate(q.narrow(1, head * headDim, headDim));
                var kh = Rotate(k.narrow(1, kvHead * headDim, headDim));
                var vh = v.narrow(1, kvHead * headDim, headDim);
                var scores = (qh.matmul(kh.t()) / Math.Sqrt(headDim)).masked_fill(future, double.NegativeInfinity);
                headOutputs.Add(scores.softmax(1).matmul(vh));
            }
            x = x + Project(cat(headOutputs, 1), $"{prefix}.self_attn.o_proj");
            var h2 = Norm(x, $"{prefix}.post_attention_layernorm.weight");
            var gate = Project(h2, $"{prefix}.mlp.gate_proj");
            x = x + Project(gate * gate.sigmoid() * Project(h2, $"{prefix}.mlp.up_proj"), $"{prefix}.mlp.down_proj");
        }
        x = Norm(x, "model.norm.weight");
        return x.matmul(Weight(state.ContainsKey("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight").t());
    }
}
