using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Modeling;

/// <summary>
/// Keys and values of every layer for the tokens seen so far, plus their attention mask and each row's count of real
/// tokens, so decoding feeds only the new tokens. The buffers are allocated once for <see cref="Capacity"/> positions
/// and written in place (growing by doubling only if a caller feeds more); the tensors live outside any dispose scope
/// and are freed by <see cref="Dispose"/>.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;
    private Tensor? mask;          // [B, Capacity] bool
    private Tensor? realTokens;    // [B] int64: real (unpadded) tokens cached per row
    private int pendingLength;

    internal KvCache(int layerCount, int capacity)
    {
        keys = new Tensor?[layerCount];
        values = new Tensor?[layerCount];
        Capacity = Math.Max(1, capacity);
    }

    /// <summary>Positions the buffers hold before they have to grow.</summary>
    public int Capacity { get; private set; }

    /// <summary>Number of positions cached (padding included).</summary>
    public int Length { get; private set; }

    public long? BatchSize => mask?.shape[0];

    /// <summary>
    /// Starts a forward pass over new tokens with attention mask <paramref name="newMask"/> [B, T]: records the mask and
    /// returns the mask of all positions [B, Length + T] and the rotary positions of the new tokens [B, T] (counting
    /// real tokens only, so a left-padded row starts at 0). Views: they belong to the caller's dispose scope.
    /// </summary>
    internal (Tensor FullMask, Tensor Positions) Begin(Tensor newMask)
    {
        long batch = newMask.shape[0], length = newMask.shape[1];
        EnsureCapacity(batch, Length + (int)length, newMask.device);
        mask!.narrow(1, Length, length).copy_(newMask);
        var positions = (realTokens!.unsqueeze(1) + newMask.to(ScalarType.Int64).cumsum(1) - 1).clamp_min(0);
        realTokens.add_(newMask.to(ScalarType.Int64).sum(1));
        pendingLength = Length + (int)length;
        return (mask.narrow(1, 0, pendingLength), positions);
    }

    /// <summary>Writes this step's keys and values [B, H_kv, T, D] of <paramref name="layer"/> in place and returns views of all cached ones.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        long length = newKeys.shape[2];
        if (keys[layer] is null)
        {
            var shape = new[] { newKeys.shape[0], newKeys.shape[1], Capacity, newKeys.shape[3] };
            keys[layer] = zeros(shape, newKeys.dtype, newKeys.device).DetachFromDisposeScope();
            values[layer] = zeros(shape, newValues.dtype, newValues.device).DetachFromDisposeScope();
        }
        keys[layer]!.narrow(2, Length, length).copy_(newKeys.detach());
        values[layer]!.narrow(2, Length, length).copy_(newValues.detach());
        return (keys[layer]!.narrow(2, 0, pendingLength), values[layer]!.narrow(2, 0, pendingLength));
    }

    /// <summary>Ends the forward pass begun by <see cref="Begin"/>.</summary>
    internal void End() => Length = pendingLength;

    /// <summary>Keeps only the rows <paramref name="rows"/> (int64 indices), in that order: rows that stopped decoding leave the batch.</summary>
    public void KeepRows(Tensor rows)
    {
        using var scope = NewDisposeScope();
        for (int layer = 0; layer < keys.Length; layer++)
        {
            Replace(ref keys[layer], rows);
            Replace(ref values[layer], rows);
        }
        Replace(ref mask, rows);
        Replace(ref realTokens, rows);
    }

    private static void Replace(ref Tensor? buffer, Tensor rows)
    {
        if (buffer is null)
            return;
        var kept = buffer.index_select(0, rows).DetachFromDisposeScope();
        buffer.Dispose();
        buffer = kept;
    }

    private void EnsureCapacity(long batch, int needed, Device device)
    {
        if (mask is null)
        {
            Capacity = Math.Max(Capacity, needed);
            mask = zeros([batch, Capacity], ScalarType.Bool, device).DetachFromDisposeScope();
            realTokens = zeros([batch], ScalarType.Int64, device).DetachFromDisposeScope();
            return;
        }
        if (needed <= Capacity)
            return;
        // A caller fed more than it announced: grow by doubling, copying what is cached.
        int grown = Math.Max(needed, Capacity * 2);
        Grow(ref mask, 1, grown);
        for (int layer = 0; layer < keys.Length; layer++)
        {
            Grow(ref keys[layer], 2, grown);
            Grow(ref values[layer], 2, grown);
        }
        Capacity = grown;
    }

    private void Grow(ref Tensor? buffer, int dimension, int capacity)
    {
        if (buffer is null)
            return;
        var shape = buffer.shape.ToArray();
        shape[dimension] = capacity;
        var larger = zeros(shape, buffer.dtype, buffer.device).DetachFromDisposeScope();
        larger.narrow(dimension, 0, Length).copy_(buffer.narrow(dimension, 0, Length));
        buffer.Dispose();
        buffer = larger;
    }

    public void Dispose()
    {
        foreach (var tensor in keys.Concat(values))
            tensor?.Dispose();
        Array.Clear(keys);
        Array.Clear(values);
        mask?.Dispose();
        realTokens?.Dispose();
        (mask, realTokens) = (null, null);
    }
}
