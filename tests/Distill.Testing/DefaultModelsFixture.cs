using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Distill.Core.Tasks;
using Distill.Core.Tokenization;
using Distill.Core.Torch;
using Distill.StudentTrainer.Bootstrap;

namespace Distill.Testing;

/// <summary>
/// The embedded default teacher and student, trained by the real <c>bootstrap</c> once and kept in a cache directory
/// keyed by the recipe (architectures, schedules, task options), so test classes and later runs share them.
/// Set <c>DISTILL_MODELS_CACHE</c> to move the cache.
/// </summary>
public sealed class DefaultModelsFixture : IAsyncLifetime
{
    public string Directory { get; private set; } = "";

    public string Teacher => Path.Combine(Directory, DefaultModels.TeacherName);

    public string Student => Path.Combine(Directory, DefaultModels.StudentName);

    public BootstrapReport Report { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var recipe = string.Join("|", DefaultModels.Teacher(CharTokenizer.Default), DefaultModels.Student(CharTokenizer.Default),
            new MathProblemOptions(), string.Join(",", new MathProblemOptions().Operations), new BootstrapOptions().ResolveBlindSpot(),
            new BootstrapOptions().StudentSignOffShare,
            string.Join(",", CpuKernels.Avx2Pins));
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(recipe)))[..16];
        var root = Environment.GetEnvironmentVariable("DISTILL_MODELS_CACHE")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "distill", "default-models");
        Directory = Path.Combine(root, key);

        // Test assemblies run in parallel processes: a lock file makes one of them train while the others wait.
        System.IO.Directory.CreateDirectory(root);
        using var trainingLock = await LockAsync(Path.Combine(root, key + ".lock"));
        var reportPath = Path.Combine(Directory, BootstrapCommand.ReportFileName);
        if (!File.Exists(reportPath))
            await BootstrapAsync(Directory);
        Report = BootstrapCommand.ReadReport(Directory)!;
    }

    /// <summary>
    /// The bootstrap as users run it, in its own process: that process pins libtorch's CPU kernels before its first
    /// tensor (<see cref="CpuKernels"/>), which this test process, having run torch already, can no longer do.
    /// </summary>
    private static async Task BootstrapAsync(string output)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Distill.StudentTrainer.dll"), "bootstrap", "--output", output, "--device", "cpu" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"the default models' bootstrap exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
