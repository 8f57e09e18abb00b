using Distill.Core.Safetensors;
using TorchSharp;

namespace Distill.Core.Tests.Safetensors;

/// <summary>
/// Every tensor of a safetensors file or sharded checkpoint, read back for tests to compare. The product never needs
/// all tensors at once (<c>ModelCheckpoint.Load</c> copies each into its parameter as it reads), so this lives here.
/// </summary>
internal static class StoredTensors
{
    /// <exception cref="InvalidDataException">A malformed or truncated file; the message names the file and tensor.</exception>
    public static Dictionary<string, torch.Tensor> Load(string path)
    {
        using var reader = SafetensorsReader.Open(path);
        return reader.Entries.Keys.ToDictionary(name => name, name => reader.Read(name), StringComparer.Ordinal);
    }

    /// <exception cref="InvalidDataException">The index and the shards disagree; the message names the file and tensor.</exception>
    public static Dictionary<string, torch.Tensor> LoadSharded(string indexPath)
    {
        var index = SafetensorsIndex.Load(indexPath);
        var directory = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var tensors = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
        foreach (var shard in index.ShardFileNames)
        {
            using var reader = SafetensorsReader.Open(Path.Combine(directory, shard));
            index.CheckShard(indexPath, shard, reader);
            foreach (var name in reader.Entries.Keys)
                tensors.Add(name, reader.Read(name));
        }
        return tensors;
    }
}
