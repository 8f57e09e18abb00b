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
    /// scores of one teacher, tokenizer or backend can never be served for another.
    /// </summary>
    public static TeacherInfo Describe(string backend, string modelId, string weightsFingerprint, string tokenizerFingerprint,
        int vocabularySize, int maxContext, int maxTopK)
    {
        var identity = string.Join('\n', backend, modelId, weightsFingerprint, tokenizerFingerprint, vocabularySize, maxContext);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..32];
        return new TeacherInfo(backend, modelId, weightsFingerprint, tokenizerFingerprint, vocabularySize, maxContext, maxTopK, fingerprint);
    }
}

/// <summary>Loads the configured teacher; one implementation per <c>Teacher:Backend</c>.</summary>
public interface ITeacherBackend
{
    Task<LoadedTeacher> LoadAsync(CancellationToken cancellationToken);
}
