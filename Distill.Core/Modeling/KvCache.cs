using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Modeling;

/// <summary>
/// Keys and values of every layer for the tokens seen so far, plus their attention mask, so decoding feeds only the
/// new tokens. The tensors live outside any dispose scope and are freed by <see cref="Dispose"/>.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;

    internal KvCache(int layerCount)
    {
        keys = new Tensor?[layerCount];
        values = new Tensor?[layerCount];
    }

    /// <summary>Which cached positions hold real tokens (false: padding), [B, Length]; null before the first forward.</summary>
    internal Tensor? Mask { get; private set; }

    /// <summary>Number of positions cached (padding included).</summary>
    public int Length => Mask is null ? 0 : (int)Mask.shape[1];

    public long? BatchSize => Mask?.shape[0];

    /// <summary>Appends this step's keys and values [B, H_kv, T, D] to layer <paramref name="layer"/> and returns all of them.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        keys[layer] = Concatenate(keys[layer], newKeys);
        values[layer] = Concatenate(values[layer], newValues);
        return (keys[layer]!, values[layer]!);
    }

    internal void SetMask(Tensor mask)
    {
        Mask?.Dispose();
        Mask = mask.DetachFromDisposeScope();
    }

    private static Tensor Concatenate(Tensor? cached, Tensor added)
    {
        if (cached is null)
            return added.detach().DetachFromDisposeScope();
        var joined = cat([cached, added.detach()], 2).DetachFromDisposeScope();
        cached.Dispose();
        return joined;
    }

    public void Dispose()
    {
        foreach (var tensor in keys.Concat(values))
            tensor?.Dispose();
        Array.Clear(keys);
        Array.Clear(values);
        Mask?.Dispose();
        Mask = null;
    }
}
