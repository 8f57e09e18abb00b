namespace Distill.Core.Tests;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
public sealed class TemporaryDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("distill-tests-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
