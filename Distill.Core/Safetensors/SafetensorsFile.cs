using System.Text;
using System.Text.Json;
using TorchSharp;

namespace Distill.Core.Safetensors;

/// <summary>
/// Reads and writes the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
/// length, a JSON header (dtype, shape and data_offsets per tensor, optional <c>__metadata__</c>), then raw tensor bytes.
/// </summary>
public static class SafetensorsFile
{
    public const string MetadataKey = "__metadata__";

    /// <summary>Writes one file atomically (temporary file, then rename).</summary>
    public static void Save(string path, IReadOnlyDictionary<string, torch.Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        // Widest dtypes first, as the reference writer does, so every tensor starts on a multiple of its element size.
        var ordered = tensors
            .OrderByDescending(pair => SafetensorsDType.SizeOf(pair.Value.dtype))
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .ToList();
        var header = BuildHeader(ordered, metadata);

        AtomicWrite.WriteFile(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BitConverter.TryWriteBytes(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var (_, tensor) in ordered)
                WriteTensorBytes(stream, tensor);
        });
    }

    /// <summary>
    /// Writes tensors into <paramref name="directory"/> as Hugging Face does: one <c>{baseName}.safetensors</c> when they
    /// fit in <paramref name="maxShardBytes"/>, else <c>{baseName}-00001-of-0000N.safetensors</c> shards (tensors kept in
    /// the dictionary's order; a tensor larger than the limit gets a shard of its own) and a
    /// <c>{baseName}.safetensors.index.json</c>. Each file is atomic; for a whole checkpoint use <c>ModelCheckpoint.Save</c>.
    /// </summary>
    /// <returns>The names of the files written.</returns>
    public static IReadOnlyList<string> SaveSharded(string directory, IReadOnlyDictionary<string, torch.Tensor> tensors, long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null, string baseName = "model")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        var shards = new List<Dictionary<string, torch.Tensor>> { new(StringComparer.Ordinal) };
        long shardBytes = 0;
        foreach (var (name, tensor) in tensors)
        {
            long bytes = tensor.NumberOfElements * SafetensorsDType.SizeOf(tensor.dtype);
            if (shards[^1].Count > 0 && shardBytes + bytes > maxShardBytes)
            {
                shards.Add(new Dictionary<string, torch.Tensor>(StringComparer.Ordinal));
                shardBytes = 0;
            }
            shards[^1].Add(name, tensor);
            shardBytes += bytes;
        }

        if (shards.Count == 1)
        {
            var single = $"{baseName}.safetensors";
            Save(Path.Combine(directory, single), shards[0], metadata);
            return [single];
        }

        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        var written = new List<string>();
        for (int i = 0; i < shards.Count; i++)
        {
            var shardName = $"{baseName}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            Save(Path.Combine(directory, shardName), shards[i], metadata);
            foreach (var name in shards[i].Keys)
                weightMap[name] = shardName;
            written.Add(shardName);
        }
        long totalSize = tensors.Values.Sum(tensor => tensor.NumberOfElements * SafetensorsDType.SizeOf(tensor.dtype));
        var indexName = $"{baseName}.safetensors.index.json";
        new SafetensorsIndex(weightMap, totalSize).Save(Path.Combine(directory, indexName));
        written.Add(indexName);
        return written;
    }

    private static byte[] BuildHeader(IReadOnlyList<KeyValuePair<string, torch.Tensor>> ordered, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in ordered)
            {
                if (string.IsNullOrEmpty(name) || name == MetadataKey)
                    throw new ArgumentException($"'{name}' cannot name a tensor in a safetensors file.", nameof(ordered));
                long bytes = tensor.NumberOfElements * SafetensorsDType.SizeOf(tensor.dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", SafetensorsDType.NameOf(tensor.dtype));
                json.WriteStartArray("shape");
                foreach (var size in tensor.shape)
                    json.WriteNumberValue(size);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }

        // The format allows trailing spaces in the header; padding to 8 bytes aligns the data section.
        int padding = (int)((8 - buffer.Length % 8) % 8);
        buffer.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        return buffer.ToArray();
    }

    private static void WriteTensorBytes(Stream stream, torch.Tensor tensor)
    {
        if (tensor.NumberOfElements == 0)
            return;
        using var scope = torch.NewDisposeScope();
        var flat = tensor.detach().cpu().contiguous().view(-1);
        long elementsPerChunk = SafetensorsReader.CopyChunkBytes / SafetensorsDType.SizeOf(tensor.dtype);
        for (long start = 0; start < flat.NumberOfElements; start += elementsPerChunk)
        {
            using var chunk = flat.narrow(0, start, Math.Min(elementsPerChunk, flat.NumberOfElements - start));
            stream.Write(chunk.bytes);
        }
    }
}
