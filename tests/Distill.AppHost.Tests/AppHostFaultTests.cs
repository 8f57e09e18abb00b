using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Distill.Testing;

namespace Distill.AppHost.Tests;

/// <summary>
/// Issue 15, through the AppHost process as a user starts it, on tiny random models (the char tokenizer's, passed as
/// --teacher-model and --student, with the bootstrap's report in place so no default model is trained): a teacher
/// that cannot load stops the run at once with the reason, and other settings on a data directory whose default run
/// finished get a run directory of their own.
/// </summary>
public sealed class AppHostFaultTests : IDisposable
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(6);
    private readonly string data = Directory.CreateTempSubdirectory("distill-apphost-faults-").FullName;
    private readonly TeacherCheckpoint teacher = new(seed: 7, maxContext: 256);
    private readonly TeacherCheckpoint student = new(seed: 11, maxContext: 256);
    private readonly ConcurrentQueue<string> output = new();
    private Process? apphost;

    public AppHostFaultTests()
    {
        Directory.CreateDirectory(Path.Combine(data, "models"));
        File.WriteAllText(Path.Combine(data, "models", "bootstrap.json"), "{}");
    }

    [Fact]
    public async Task ATeacherThatCannotLoadStopsTheRunAtOnceWithTheReason()
    {
        var weights = Path.Combine(teacher.Directory, "model.safetensors");
        using (var file = new FileStream(weights, FileMode.Open))
            file.SetLength(file.Length / 2);

        var clock = Stopwatch.StartNew();
        int exitCode = await RunAppHostAsync([]);

        Assert.NotEqual(0, exitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"the AppHost took {clock.Elapsed} to give up");
        Assert.Contains(output, line => line.Contains("teacher: failed: cannot start: the teacher cannot load"));
        Assert.DoesNotContain(output, line => line.Contains("teacher: exited") && line.Contains("restarting"));
    }

    [Fact]
    public async Task OtherSettingsOnAFinishedDefaultRunTrainInARunDirectoryNamedAfterThem()
    {
        Assert.Equal(0, await RunAppHostAsync([]));
        var defaultRun = Path.Combine(data, "runs", "default");
        var manifest = File.ReadAllText(Path.Combine(defaultRun, "run.json"));
        var metrics = File.ReadAllText(Path.Combine(defaultRun, "metrics.jsonl"));

        output.Clear();
        Assert.Equal(0, await RunAppHostAsync(["--objective", "lagrangian", "--threshold", "3"]));
        // Named after the objective, d and seed; a hash follows since --student is not the default student.
        var derived = Assert.Single(Directory.GetDirectories(Path.Combine(data, "runs"), "lagrangian-d3-s1-*"));
        Assert.Contains(output, line => line.Contains($"run directory {derived}: a new run, since {defaultRun} was started with other settings"));
        Assert.Contains(output, line => line.Contains("--objective lagrangian, the run has cmdp") && line.Contains("--threshold 3, the run has 12"));
        using (var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(derived, "run.json"))))
        {
            Assert.Equal("lagrangian", run.RootElement.GetProperty("objective").GetString());
            Assert.Equal(3, run.RootElement.GetProperty("threshold").GetDouble());
        }
        Assert.Equal(2, File.ReadAllLines(Path.Combine(derived, "metrics.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(derived, "completed.json")));
        Assert.Equal(manifest, File.ReadAllText(Path.Combine(defaultRun, "run.json")));
        Assert.Equal(metrics, File.ReadAllText(Path.Combine(defaultRun, "metrics.jsonl")));
        Assert.DoesNotContain(output, line => line.Contains("steps 3..2"));

        // The same settings again continue their own run: nothing is left to train.
        output.Clear();
        Assert.Equal(0, await RunAppHostAsync(["--objective", "lagrangian", "--threshold", "3"]));
        Assert.Contains(output, line => line.Contains($"run directory {derived}: continuing the run of these settings"));
        Assert.Contains(output, line => line.Contains("has already trained all 2 steps"));
    }

    private async Task<int> RunAppHostAsync(IReadOnlyList<string> arguments)
    {
        var assembly = typeof(AppHostFaultTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Distill.AppHostAssembly").Value!;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { assembly, "--data-dir", data, "--teacher-model", teacher.Directory, "--student", student.Directory,
                     "--steps", "2", "--checkpoint-every", "2", "--device", "cpu", "--dashboard-url", "", "--dashboard-otlp-grpc-url", "" })
            start.ArgumentList.Add(argument);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        apphost = new Process { StartInfo = start };
        apphost.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue($"{DateTime.UtcNow:HH:mm:ss} {e.Data}"); };
        apphost.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue($"{DateTime.UtcNow:HH:mm:ss} {e.Data}"); };
        apphost.Start();
        apphost.BeginOutputReadLine();
        apphost.BeginErrorReadLine();
        using var limit = new CancellationTokenSource(RunLimit);
        try
        {
            await apphost.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            apphost.Kill(entireProcessTree: true);
            throw new TimeoutException($"the AppHost did not finish within {RunLimit}:\n{string.Join("\n", output.TakeLast(60))}");
        }
        return apphost.ExitCode;
    }

    public void Dispose()
    {
        if (apphost is { HasExited: false }) apphost.Kill(entireProcessTree: true);
        apphost?.Dispose();
        teacher.Dispose();
        student.Dispose();
        Directory.Delete(data, recursive: true);
    }
}
