using System.Text.Json;

namespace Distill.Core.Safetensors;

/// <summary>A sharded checkpoint's <c>model.safetensors.index.json</c>: which shard file holds each tensor.</summary>
public sealed record SafetensorsIndex(IReadOnlyDictionary<string, string> WeightMap, long? TotalSize)
{
    public IReadOnlyList<string> ShardFileNames => WeightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <exception cref="InvalidDataException">Malformed JSON, no <c>weight_map</c>, or a shard name that leaves the directory.</exception>
    public static SafetensorsIndex Load(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {error.Message}", error);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: field 'weight_map' is missing or not an object.");

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : "";
                if (shard.Length == 0 || shard != Path.GetFileName(shard))
                    throw new InvalidDataException($"{path}: weight_map entry for tensor '{entry.Name}' must be a file name in the same directory.");
                weightMap[entry.Name] = shard;
            }

            long? totalSize = root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object &&
                metadata.TryGetProperty("total_size", out var size) && size.TryGetInt64(out var bytes) ? bytes : null;
            return new SafetensorsIndex(weightMap, totalSize);
        }
    }

    public void Save(string path)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            if (TotalSize is { } total)
                json.WriteNumber("total_size", total);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (name, shard) in WeightMap.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                json.WriteString(name, shard);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        AtomicWrite.WriteFile(path, buffer.ToArray());
    }

    /// <summary>Checks that a shard holds exactly the tensors the index assigns to it.</summary>
    /// <exception cref="InvalidDataException">Names the index, the shard and the tensor that disagree.</exception>
    public void CheckShard(string indexPath, string shardFileName, SafetensorsReader shard)
    {
        foreach (var (name, file) in WeightMap)
        {
            if (file == shardFileName && !shard.Entries.ContainsKey(name))
                throw new InvalidDataException($"{shard.FilePath}: tensor '{name}' is missing, though {indexPath} maps it to this shard.");
        }
        foreach (var name in shard.Entries.Keys)
        {
            if (!WeightMap.TryGetValue(name, out var file) || file != shardFileName)
                throw new InvalidDataException($"{shard.FilePath}: tensor '{name}' is not mapped to this shard by {indexPath}.");
        }
    }
}
