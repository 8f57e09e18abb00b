using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Distill.Core.Modeling;
using Distill.Core.Safetensors;

namespace Distill.TeacherService.Backends;

/// <summary>What the torch and onnx backends need to know about a checkpoint directory beyond loading it: who it is.</summary>
public static class CheckpointFiles
{
    /// <summary>The configured model id, else the checkpoint directory's name.</summary>
    public static string ModelId(TeacherOptions options) =>
        options.ModelId ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.ModelPath!)));

    /// <summary>
    /// The files a TorchSharp forward pass depends on: <c>config.json</c>, then <c>model.safetensors</c> or the index
    /// and every shard it lists.
    /// </summary>
    public static IReadOnlyList<string> SafetensorsWeights(string directory)
    {
        var (index, weights) = ModelCheckpoint.WeightFiles(directory);
        return index is null ? [ModelCheckpoint.ConfigFileName, .. weights] : [ModelCheckpoint.ConfigFileName, ModelCheckpoint.IndexFileName, .. weights];
    }

    /// <summary>
    /// SHA-256 over every file's name, length and whole content. Headers and sizes alone would miss retrained weights
    /// of the same shapes, and serving one teacher's cached scores for another is the error the fingerprint exists to
    /// prevent; hashing reads the files once more, at disk speed, beside a load that reads them anyway.
    /// </summary>
    public static async Task<string> FingerprintAsync(string directory, IReadOnlyList<string> fileNames, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var name in fileNames)
        {
            await using var file = new FileStream(Path.Combine(directory, name), FileMode.Open, FileAccess.Read, FileShare.Read,
                bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            hash.AppendData(Encoding.UTF8.GetBytes(name));
            var length = new byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(length, file.Length);
            hash.AppendData(length);
            int read;
            while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
                hash.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
