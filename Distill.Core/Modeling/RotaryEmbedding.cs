using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Modeling;

/// <summary>
/// Rotary position embeddings in Hugging Face's "rotate_half" layout: the first and second halves of each head are
/// the two coordinates of each rotated pair, with frequencies <c>1 / theta^(2i/d)</c> (optionally scaled).
/// </summary>
internal sealed class RotaryEmbedding
{
    private readonly float[] inverseFrequencies;

    public RotaryEmbedding(LlamaConfig config)
    {
        var unscaled = Enumerable.Range(0, config.HeadDim / 2)
            .Select(i => 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / config.HeadDim))
            .ToArray();
        var scaled = config.RopeScaling?.Apply(unscaled) ?? unscaled;
        inverseFrequencies = scaled.Select(frequency => (float)frequency).ToArray();
    }

    /// <summary>Cosines and sines for positions [B, T], each [B, 1, T, D] in <paramref name="dtype"/>, ready to broadcast over heads.</summary>
    public (Tensor Cos, Tensor Sin) Compute(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        // Angles in float32 whatever the model dtype: bf16 positions above 256 would already be rounded.
        using var frequencies = tensor(inverseFrequencies, device: positions.device);
        var angles = positions.to(ScalarType.Float32).unsqueeze(-1) * frequencies;
        var embedding = cat([angles, angles], -1).unsqueeze(1);
        return (embedding.cos().to(dtype).MoveToOuterDisposeScope(), embedding.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>Rotates queries or keys [B, H, T, D] by their positions.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotatedHalf = cat([x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)], -1);
        return (x * cos + rotatedHalf * sin).MoveToOuterDisposeScope();
    }
}
