using System.Diagnostics;
using System.Reflection;
using Distill.Core.Runs;
using Distill.Testing;

namespace Distill.AppHost.Tests;

/// <summary>
/// The whole platform as a user starts it: the AppHost process with Redis, the teacher, the trainer and the evaluator
/// as its children, on a short schedule over the default models.
/// </summary>
public sealed class AppHostRunTests : IClassFixture<DefaultModelsFixture>, IDisposable
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(8);
    private readonly string data = Directory.CreateTempSubdirectory("distill-apphost-").FullName;

    public AppHostRunTests(DefaultModelsFixture models)
    {
        // The default models the first run would train: copied in, so the bootstrap resource finds them and returns at once.
        CopyDirectory(models.Directory, Path.Combine(data, "models"));
    }

    [Fact]
    public async Task TheGraphRunsToCompletionLeavesAReportAndNoProcessBehind()
    {
        var apphost = StartAppHost();
        int exitCode = await WaitForExitAsync(apphost);

        Assert.True(exitCode == 0, $"the AppHost exited with {exitCode}:\n{Tail(apphost)}");
        var run = new RunDirectory(Path.Combine(data, "runs", "default"));
        Assert.True(run.IsCompleted);
        Assert.True(File.Exists(Path.Combine(run.EvaluationPath(4), "evaluation.json")), "no evaluation report of the final checkpoint");
        Assert.Empty(ProcessesOfThisRun());
    }

    [Fact]
    public async Task AKilledTeacherIsRestartedAndTheRunStillCompletes()
    {
        var apphost = StartAppHost();
        var metrics = Path.Combine(data, "runs", "default", "metrics.jsonl");
        var deadline = DateTime.UtcNow + RunLimit;
        while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length >= 1) && DateTime.UtcNow < deadline && !apphost.HasExited)
            await Task.Delay(500);
        var teacher = ProcessesOfThisRun().Single(p => p.CommandLine.Contains("Distill.TeacherService.dll"));
        Process.GetProcessById(teacher.Id).Kill();

        int exitCode = await WaitForExitAsync(apphost);
        Assert.True(exitCode == 0, $"the AppHost exited with {exitCode}:\n{Tail(apphost)}");
        Assert.True(new RunDirectory(Path.Combine(data, "runs", "default")).IsCompleted);
        Assert.Contains(outputs[apphost], line => line.Contains("teacher: exited") && line.Contains("restarting"));
        Assert.Empty(ProcessesOfThisRun());
    }

    private Process StartAppHost()
    {
        var assembly = typeof(AppHostRunTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Distill.AppHostAssembly").Value!;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { assembly, "--data-dir", data, "--steps", "4", "--checkpoint-every", "2", "--device", "cpu",
                     "--dashboard-url", $"http://127.0.0.1:{RedisServerFixture.FreePort()}",
                     "--dashboard-otlp-grpc-url", $"http://127.0.0.1:{RedisServerFixture.FreePort()}" })
            start.ArgumentList.Add(argument);
        var process = new Process { StartInfo = start };
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        outputs[process] = output;
        return process;
    }

    private readonly Dictionary<Process, System.Collections.Concurrent.ConcurrentQueue<string>> outputs = [];

    private string Tail(Process process) => string.Join("\n", outputs[process].TakeLast(60));

    private static async Task<int> WaitForExitAsync(Process process)
    {
        using var limit = new CancellationTokenSource(RunLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the AppHost did not finish within {RunLimit}.");
        }
        return process.ExitCode;
    }

    /// <summary>Processes started for this test's data directory (redis-server's arguments or a service's environment name it).</summary>
    private IReadOnlyList<(int Id, string CommandLine)> ProcessesOfThisRun()
    {
        var found = new List<(int, string)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                var environment = File.ReadAllText(Path.Combine(directory, "environ"));
                if (commandLine.Contains(data) || environment.Contains(data)) found.Add((pid, commandLine));
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }
        return found;
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    public void Dispose()
    {
        foreach (var process in outputs.Keys)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
        Directory.Delete(data, recursive: true);
    }
}
