using Distill.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Onnx.Tests;

/// <summary>
/// Hugging Face's LlamaForCausalLM forward, written directly in TorchSharp from the same math, unpadded and one
/// sequence at a time: an independent oracle for the exported graph.
/// </summary>
internal static class ReferenceForward
{
    /// <summary>log p(completion[t] | prompt, completion[..t]) for each t.</summary>
    public static float[] CompletionLogProbs(CausalLmConfig config, IReadOnlyDictionary<string, Tensor> w, int[] prompt, int[] completion)
    {
        using var scope = NewDisposeScope();
        var tokens = prompt.Concat(completion).Select(t => (long)t).ToArray();
        var logProbs = Logits(config, w, tokens).log_softmax(-1);
        return Enumerable.Range(0, completion.Length)
            .Select(t => logProbs[prompt.Length - 1 + t, completion[t]].item<float>())
            .ToArray();
    }

    /// <summary>Logits [seq, vocab] of one unpadded sequence.</summary>
    public static Tensor Logits(CausalLmConfig config, IReadOnlyDictionary<string, Tensor> w, long[] tokens)
    {
        long length = tokens.Length, d = config.HeadDim;
        var x = w["model.embed_tokens.weight"].index_select(0, tensor(tokens)).unsqueeze(0);

        var inverseFrequencies = pow(config.RopeTheta, arange(0, d, 2, dtype: float64) / d).reciprocal().to_type(float32);
        var angles = arange(length, dtype: float32).unsqueeze(1) * inverseFrequencies.unsqueeze(0);
        var rotary = cat([angles, angles], -1);
        var (cos, sin) = (rotary.cos(), rotary.sin());
        var causal = ones(length, length, dtype: @bool).tril();

        for (var i = 0; i < config.LayerCount; i++)
        {
            var prefix = $"model.layers.{i}";
            var h = RmsNorm(x, w[$"{prefix}.input_layernorm.weight"], config.RmsNormEps);
            var q = Heads(Linear(h, w, $"{prefix}.self_attn.q_proj"), config.AttentionHeadCount, d);
            var k = Heads(Linear(h, w, $"{prefix}.self_attn.k_proj"), config.KeyValueHeadCount, d);
            var v = Heads(Linear(h, w, $"{prefix}.self_attn.v_proj"), config.KeyValueHeadCount, d);
            if (config.QkNorm)
            {
                q = RmsNorm(q, w[$"{prefix}.self_attn.q_norm.weight"], config.RmsNormEps);
                k = RmsNorm(k, w[$"{prefix}.self_attn.k_norm.weight"], config.RmsNormEps);
            }
            q = q * cos + RotateHalf(q) * sin;
            k = k * cos + RotateHalf(k) * sin;
            var repeat = config.AttentionHeadCount / config.KeyValueHeadCount;
            k = k.repeat_interleave(repeat, dim: 1);
            v = v.repeat_interleave(repeat, dim: 1);
            var scores = q.matmul(k.transpose(-1, -2)) / Math.Sqrt(d);
            var attention = scores.masked_fill(causal.logical_not(), float.MinValue).softmax(-1).matmul(v);
            var merged = attention.transpose(1, 2).reshape(1, length, config.AttentionHeadCount * d);
            x = x + Linear(merged, w, $"{prefix}.self_attn.o_proj");

            h = RmsNorm(x, w[$"{prefix}.post_attention_layernorm.weight"], config.RmsNormEps);
            var gate = Linear(h, w, $"{prefix}.mlp.gate_proj");
            x = x + Linear(nn.functional.silu(gate) * Linear(h, w, $"{prefix}.mlp.up_proj"), w, $"{prefix}.mlp.down_proj");
        }
        x = RmsNorm(x, w["model.norm.weight"], config.RmsNormEps);
        var head = config.TieWordEmbeddings ? w["model.embed_tokens.weight"] : w["lm_head.weight"];
        return x.matmul(head.t()).squeeze(0);
    }

    private static Tensor RmsNorm(Tensor x, Tensor weight, float eps) =>
        x * (x.pow(2).mean([-1L], keepdim: true) + eps).rsqrt() * weight;

    private static Tensor Linear(Tensor x, IReadOnlyDictionary<string, Tensor> w, string module) =>
        nn.functional.linear(x, w[$"{module}.weight"], w.GetValueOrDefault($"{module}.bias"));

    private static Tensor Heads(Tensor projection, long heads, long headDim) =>
        projection.view(1, -1, heads, headDim).transpose(1, 2);

    private static Tensor RotateHalf(Tensor x)
    {
        var halves = x.chunk(2, -1);
        return cat([halves[1].neg(), halves[0]], -1);
    }
}
