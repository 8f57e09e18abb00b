using System.Diagnostics;
using System.Text.Json;

namespace Distill.AppHost.Tests;

/// <summary>
/// The AppHost process as a user starts it, on tiny random models: bad settings are refused before anything starts, a
/// teacher that cannot load stops the run at once with the reason, and other settings on a data directory whose
/// default run finished get a run directory of their own.
/// </summary>
public sealed class AppHostFaultTests : IDisposable
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(5);
    private readonly TinyPlatformData data = new();

    [Fact]
    public async Task ATypoInTheObjectiveIsRefusedBeforeAnythingStartsNamingTheFlag()
    {
        await using var apphost = AppHostProcess.Start(data.Directory, [.. data.Flags(2, 2), "--objective", "cmdpp"]);
        var clock = Stopwatch.StartNew();

        Assert.Equal(2, await apphost.WaitForExitAsync(RunLimit));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Contains(apphost.Output, line => line.Contains("--objective must be one of cmdp|") && line.Contains("(got cmdpp)"));
        Assert.DoesNotContain(apphost.Output, line => line.Contains("Distributed application starting"));
        Assert.False(Directory.Exists(Path.Combine(data.Directory, "cache")), "the cache was set up for a run that cannot start");
    }

    [Fact]
    public async Task HelpListsEveryFlagWithItsDefault()
    {
        await using var apphost = AppHostProcess.Start(data.Directory, ["--help"]);

        Assert.Equal(0, await apphost.WaitForExitAsync(RunLimit));
        var help = string.Join("\n", apphost.Output);
        foreach (var flag in new[] { "--teacher-backend", "--objective", "--threshold", "--cache", "--dashboard-url", "--max-restarts", "--keep-running" })
            Assert.Contains(flag, help);
        Assert.Contains("[default: http://127.0.0.1:18888]", help);
    }

    [Fact]
    public async Task ABadAppHostFlagIsRefusedNamingIt()
    {
        await using var apphost = AppHostProcess.Start(data.Directory, [.. data.Flags(2, 2), "--cache", "docker"]);

        Assert.Equal(2, await apphost.WaitForExitAsync(RunLimit));
        Assert.Contains(apphost.Output, line => line.Contains("--cache must be one of auto|container|executable (got docker)"));
    }

    [Fact]
    public async Task ATeacherThatCannotLoadStopsTheRunAtOnceWithTheReason()
    {
        var weights = Path.Combine(data.Teacher.Directory, "model.safetensors");
        using (var file = new FileStream(weights, FileMode.Open))
            file.SetLength(file.Length / 2);

        var clock = Stopwatch.StartNew();
        await using var apphost = AppHostProcess.Start(data.Directory, data.Flags(2, 2));
        int exitCode = await apphost.WaitForExitAsync(RunLimit);

        Assert.NotEqual(0, exitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"the AppHost took {clock.Elapsed} to give up");
        Assert.Contains(apphost.Output, line => line.Contains("error: teacher exited with code 3") && line.Contains("cannot load"));
        Assert.DoesNotContain(apphost.Output, line => line.Contains("teacher: exited") && line.Contains("restarting"));
        Assert.Empty(await AppHostProcess.LeftoversAfterAsync(data.Directory, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task OtherSettingsOnAFinishedDefaultRunTrainInARunDirectoryNamedAfterThem()
    {
        await using (var first = AppHostProcess.Start(data.Directory, data.Flags(2, 2)))
            Assert.True(await first.WaitForExitAsync(RunLimit) == 0, first.Tail);
        var defaultRun = Path.Combine(data.RunsDirectory, "default");
        var manifest = File.ReadAllText(Path.Combine(defaultRun, "run.json"));
        var metrics = File.ReadAllText(Path.Combine(defaultRun, "metrics.jsonl"));

        await using (var second = AppHostProcess.Start(data.Directory, [.. data.Flags(2, 2), "--objective", "lagrangian", "--threshold", "5"]))
        {
            Assert.True(await second.WaitForExitAsync(RunLimit) == 0, second.Tail);
            // Named after the objective, d and seed, and a hash of the student and dataset.
            var derived = Assert.Single(Directory.GetDirectories(data.RunsDirectory, "lagrangian-d5-s1-*"));
            Assert.Contains(second.Output, line => line.Contains($"run directory {derived}: a new run, since {defaultRun} was started with other settings"));
            var defaultThreshold = new AppHostOptions().Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains(second.Output, line => line.Contains("--objective lagrangian (the run has cmdp)") && line.Contains($"--threshold 5 (the run has {defaultThreshold})"));
            using (var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(derived, "run.json"))))
            {
                Assert.Equal("lagrangian", run.RootElement.GetProperty("objective").GetString());
                Assert.Equal(5, run.RootElement.GetProperty("threshold").GetDouble());
            }
            Assert.Equal(2, File.ReadAllLines(Path.Combine(derived, "metrics.jsonl")).Length);
            Assert.True(File.Exists(Path.Combine(derived, "completed.json")));
            Assert.Equal(manifest, File.ReadAllText(Path.Combine(defaultRun, "run.json")));
            Assert.Equal(metrics, File.ReadAllText(Path.Combine(defaultRun, "metrics.jsonl")));
        }
    }

    public void Dispose() => data.Dispose();
}
