using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Distill.Core.Runs;
using Distill.StudentTrainer.Training;
using Distill.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.StudentTrainer.Tests.Training;

/// <summary>
/// A tiny random teacher and student (the char tokenizer's, so they tokenize alike), a real redis-server and the real
/// teacher service on Kestrel: enough for a trainer to take real steps in a fraction of a second each, so runs can be
/// interrupted, damaged and resumed many times in one test.
/// </summary>
public sealed class TinyPlatformFixture : IAsyncLifetime
{
    public TeacherCheckpoint Teacher { get; } = new(seed: 7, maxContext: 256);

    public TeacherCheckpoint Student { get; } = new(seed: 11, maxContext: 256);

    public RedisServerFixture Redis { get; } = new();

    public TeacherHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Redis.InitializeAsync();
        Host = TeacherHost.Start(TeacherHost.Settings(Teacher.Directory, Redis));
        await Host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Redis.DisposeAsync();
        Teacher.Dispose();
        Student.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class TinyPlatform : ICollectionFixture<TinyPlatformFixture>
{
    public const string Name = "tiny platform";
}

/// <summary>
/// Issue 15: a run directory under faults and reuse. Two trainers in one directory, a resume with other settings,
/// lost or hostile checkpoint pointers, a torn metrics line, and a trainer process killed mid-run: each must end with
/// a run whose <c>metrics.jsonl</c> holds every step exactly once, or be refused with a message that says why.
/// </summary>
[Collection(TinyPlatform.Name)]
public sealed class RunFaultTests(TinyPlatformFixture platform) : IDisposable
{
    private readonly string runs = Directory.CreateTempSubdirectory("distill-faults-").FullName;

    [Fact]
    public async Task ASecondTrainerInTheSameRunDirectoryIsRefusedNamingTheHolder()
    {
        var runDirectory = Path.Combine(runs, "shared");
        using var firstIsInStep = new SemaphoreSlim(0);
        using var secondWasTried = new SemaphoreSlim(0);
        var first = TrainAsync(runDirectory, steps: 4, onStep: m =>
        {
            if (m.Step != 2) return;
            firstIsInStep.Release();
            secondWasTried.Wait(TimeSpan.FromSeconds(60));
        });
        Assert.True(await firstIsInStep.WaitAsync(TimeSpan.FromSeconds(60)), "the first trainer never reached step 2");

        var refused = await Assert.ThrowsAnyAsync<IOException>(() => TrainAsync(runDirectory, steps: 4));
        secondWasTried.Release();
        Assert.Contains($"process {Environment.ProcessId}", refused.Message);
        Assert.Contains("run.lock", refused.Message);

        await first;
        AssertEveryStepOnce(runDirectory, 4);
        Assert.Equal([2, 4], new RunDirectory(runDirectory).ReadAnnouncements().Select(a => a.Step));
    }

    [Fact]
    public async Task TheLockDiesWithAKilledTrainerProcessAndTheRunResumesWithEveryStepOnce()
    {
        var runDirectory = Path.Combine(runs, "killed");
        const int steps = 40;
        using var trainer = StartTrainerProcess(runDirectory, steps);
        var run = new RunDirectory(runDirectory);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (run.ReadAnnouncements().Count == 0)
        {
            Assert.False(trainer.HasExited, $"the trainer process exited with {(trainer.HasExited ? trainer.ExitCode : 0)} before its first checkpoint");
            Assert.True(DateTime.UtcNow < deadline, "the trainer process wrote no checkpoint within 3 minutes");
            await Task.Delay(50);
        }
        // Frozen, it holds the lock as an orphaned trainer would, and cannot finish the run under the test.
        Signal(trainer, "STOP");
        try
        {
            var refused = await Assert.ThrowsAnyAsync<IOException>(() => TrainAsync(runDirectory, steps));
            Assert.Contains($"process {trainer.Id}", refused.Message);
        }
        finally
        {
            trainer.Kill();
            await trainer.WaitForExitAsync();
        }

        // The OS released the dead process's lock: the run resumes from its last checkpoint and completes.
        var resumed = await TrainAsync(runDirectory, steps);
        Assert.Equal(Enumerable.Range(1, steps), resumed.Select(m => m.Step));
        AssertEveryStepOnce(runDirectory, steps);
        Assert.True(run.IsCompleted);
    }

    [Fact]
    public async Task AResumeWithOtherSettingsIsRefusedNamingTheFlagsAndOnlyTheStepsMayGrow()
    {
        var runDirectory = Path.Combine(runs, "settings");
        await TrainAsync(runDirectory, steps: 2);
        var before = File.ReadAllText(Path.Combine(runDirectory, "run.json"));

        var refused = await Assert.ThrowsAsync<TrainingStartupException>(() => TrainAsync(runDirectory, steps: 2, objective: "cmdp", threshold: 12, seed: 9));
        Assert.Contains("--objective cmdp (the run has lagrangian)", refused.Message);
        Assert.Contains("--threshold 12 (the run has 3)", refused.Message);
        Assert.Contains("--seed 9 (the run has 5)", refused.Message);
        Assert.DoesNotContain("--student", refused.Message);
        Assert.Equal(before, File.ReadAllText(Path.Combine(runDirectory, "run.json")));

        var shrunk = await Assert.ThrowsAsync<TrainingStartupException>(() => TrainAsync(runDirectory, steps: 1));
        Assert.Contains("--steps 1", shrunk.Message);

        var grown = await TrainAsync(runDirectory, steps: 4);
        Assert.Equal([1, 2, 3, 4], grown.Select(m => m.Step));
        Assert.Equal(4, new RunDirectory(runDirectory).ReadManifest().TotalSteps);
        AssertEveryStepOnce(runDirectory, 4);
    }

    [Fact]
    public async Task ADeletedLatestPointerFallsBackToTheAnnouncementsThenToTheNewestCompleteCheckpoint()
    {
        var runDirectory = Path.Combine(runs, "pointer");
        var run = new RunDirectory(runDirectory);
        await InterruptAtStepAsync(runDirectory, steps: 6, stopAt: 5);
        File.Delete(run.LatestCheckpointPath);
        await InterruptAtStepAsync(runDirectory, steps: 6, stopAt: 6);
        // A resume from the start would have written step 1 again: it resumed from step 4's checkpoint.
        AssertStepsOnce(runDirectory, 5);

        File.Delete(run.LatestCheckpointPath);
        File.Delete(run.AnnouncementsPath);
        var resumed = await TrainAsync(runDirectory, steps: 6);
        Assert.Equal([1, 2, 3, 4, 5, 6], resumed.Select(m => m.Step));
        AssertEveryStepOnce(runDirectory, 6);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ACheckpointPointerLeadingOutOfTheRunDirectoryIsRefusedNamingTheFile(bool absolute)
    {
        var runDirectory = Path.Combine(runs, absolute ? "absolute" : "climbing");
        await InterruptAtStepAsync(runDirectory, steps: 4, stopAt: 3);
        var elsewhere = Path.Combine(runs, "elsewhere");
        CopyDirectory(Path.Combine(runDirectory, "checkpoints", "step-000002"), elsewhere);
        var pointer = absolute ? elsewhere : Path.Combine("..", "elsewhere");
        var latest = Path.Combine(runDirectory, "latest-checkpoint.json");
        File.WriteAllText(latest, $$"""{"step":2,"path":{{System.Text.Json.JsonSerializer.Serialize(pointer)}},"time":"2026-01-01T00:00:00Z"}""");

        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => TrainAsync(runDirectory, steps: 4));
        Assert.Contains(latest, refused.Message);
        Assert.Contains(pointer, refused.Message);
    }

    [Fact]
    public async Task ATornLastMetricsLineOfACheckpointedStepIsTrainedAgain()
    {
        var runDirectory = Path.Combine(runs, "torn");
        var run = new RunDirectory(runDirectory);
        await TrainAsync(runDirectory, steps: 4);
        // Tear step 4's line in half: the checkpoint of step 4 covers it, so only a re-run from step 2 can write it.
        var metrics = File.ReadAllText(run.MetricsPath);
        var lastLine = metrics.LastIndexOf('\n', metrics.Length - 2) + 1;
        File.WriteAllText(run.MetricsPath, metrics[..(lastLine + (metrics.Length - lastLine) / 2)]);
        File.Delete(run.CompletedPath);

        var repaired = await TrainAsync(runDirectory, steps: 4);
        Assert.Equal([1, 2, 3, 4], repaired.Select(m => m.Step));
        AssertEveryStepOnce(runDirectory, 4);
        Assert.True(run.IsCompleted);
    }

    [Fact]
    public async Task ATornLineAfterTheCheckpointIsDroppedAndItsStepWrittenOnce()
    {
        var runDirectory = Path.Combine(runs, "torn-after");
        var run = new RunDirectory(runDirectory);
        await InterruptAtStepAsync(runDirectory, steps: 4, stopAt: 4);
        // Killed while writing step 4's line, after the checkpoint of step 2 and before the next.
        File.AppendAllText(run.MetricsPath, """{"step":4,"reward":0.5,"acc""");

        var resumed = await TrainAsync(runDirectory, steps: 4);
        Assert.Equal([1, 2, 3, 4], resumed.Select(m => m.Step));
        AssertEveryStepOnce(runDirectory, 4);
    }

    /// <summary>Trains until step <paramref name="stopAt"/> has been written, then stops as a killed trainer would.</summary>
    private async Task InterruptAtStepAsync(string runDirectory, int steps, int stopAt)
    {
        using var stop = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            TrainAsync(runDirectory, steps, onStep: m => { if (m.Step == stopAt - 1) stop.Cancel(); }, cancellation: stop.Token));
    }

    /// <summary>Every step from 1 to <paramref name="steps"/>, once each, in order, and no torn line.</summary>
    private static void AssertEveryStepOnce(string runDirectory, int steps)
    {
        var run = new RunDirectory(runDirectory);
        Assert.Equal(Enumerable.Range(1, steps), run.ReadMetrics().Select(m => m.Step));
        Assert.Equal(steps, File.ReadAllLines(run.MetricsPath).Count(line => line.Length > 0));
    }

    private static void AssertStepsOnce(string runDirectory, int steps) => AssertEveryStepOnce(runDirectory, steps);

    private Dictionary<string, string?> Settings(string runDirectory, int steps, string objective, double threshold, int seed) => new()
    {
        ["Trainer:Objective"] = objective,
        ["Trainer:Student"] = platform.Student.Directory,
        ["Trainer:RunDirectory"] = runDirectory,
        ["Trainer:Device"] = "cpu",
        ["Trainer:Threshold"] = threshold.ToString(CultureInfo.InvariantCulture),
        ["Trainer:Steps"] = steps.ToString(CultureInfo.InvariantCulture),
        ["Trainer:CheckpointEvery"] = "2",
        ["Trainer:BatchSize"] = "2",
        ["Trainer:GroupSize"] = "2",
        ["Trainer:MaxNewTokens"] = "6",
        ["Trainer:Seed"] = seed.ToString(CultureInfo.InvariantCulture),
        ["TeacherClient:BaseAddress"] = platform.Host.Address.ToString(),
    };

    private Task<IReadOnlyList<TrainingStepMetrics>> TrainAsync(string runDirectory, int steps, string objective = "lagrangian",
        double threshold = 3, int seed = 5, Action<TrainingStepMetrics>? onStep = null, CancellationToken cancellation = default) =>
        InProcessTrainer.TrainAsync(Settings(runDirectory, steps, objective, threshold, seed), onStep, cancellation);

    /// <summary>The trainer's own executable with the same settings as flags, as the AppHost starts it.</summary>
    private Process StartTrainerProcess(string runDirectory, int steps)
    {
        var assembly = typeof(RunFaultTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Distill.StudentTrainerPath").Value!;
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(assembly);
        foreach (var (key, value) in Settings(runDirectory, steps, "lagrangian", 3, 5))
        {
            var flag = TrainerCommandLine.Flags.Single(f => f.Key == key).Name;
            start.ArgumentList.Add(flag);
            start.ArgumentList.Add(value!);
        }
        start.ArgumentList.Add("--resume");
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    public void Dispose() => Directory.Delete(runs, recursive: true);
}
