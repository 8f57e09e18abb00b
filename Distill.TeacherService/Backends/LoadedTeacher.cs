using System.Security.Cryptography;
using System.Text;
using Distill.Core.Contracts;
using Distill.Core.Scoring;

namespace Distill.TeacherService.Backends;

/// <summary>A teacher ready to score, and who it is; owns what the backend loaded (model weights, native memory).</summary>
public sealed class LoadedTeacher(ISequenceScorer scorer, TeacherInfo info, IDisposable? resources = null) : IDisposable
{
    public ISequenceScorer Scorer { get; } = scorer;

    public TeacherInfo Info { get; } = info;

    public void Dispose() => resources?.Dispose();

    /// <summary>
    /// Builds the identity a backend reports. The fingerprint hashes every field that could change a score, so cached
    /// scores of one teacher, tokenizer or backend can never be served for another. <paramref name="numerics"/> is how
    /// the backend computes (e.g. <c>dtype=bfloat16;device=cuda</c>): the same weights in bfloat16 give log-probs up to
    /// 0.05 nats per token away from float32's, so each precision and device class has scores, and cache entries, of
    /// its own. Never a secret: the fingerprint is returned with every score and is part of every cache key.
    /// </summary>
    public static TeacherInfo Describe(string backend, string modelId, string weightsFingerprint, string tokenizerFingerprint,
        int vocabularySize, int maxContext, int maxTopK, string numerics = "")
    {
        // Without numerics the identity is what it always was, so a backend that states none keeps its cache entries.
        string[] fields = [backend, modelId, weightsFingerprint, tokenizerFingerprint, $"{vocabularySize}", $"{maxContext}"];
        var identity = string.Join('\n', numerics.Length == 0 ? fields : [.. fields, numerics]);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..32];
        return new TeacherInfo(backend, modelId, weightsFingerprint, tokenizerFingerprint, vocabularySize, maxContext, maxTopK, fingerprint);
    }
}

/// <summary>Loads the configured teacher; one implementation per <c>Teacher:Backend</c>.</summary>
public interface ITeacherBackend
{
    Task<LoadedTeacher> LoadAsync(CancellationToken cancellationToken);
}
