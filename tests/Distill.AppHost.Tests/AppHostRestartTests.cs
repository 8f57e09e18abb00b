using System.Diagnostics;
using Distill.Core.Runs;

namespace Distill.AppHost.Tests;

/// <summary>
/// Failures of the whole platform as a user meets them, on tiny random models: a killed teacher is started again and
/// the run completes; a stopped or killed AppHost leaves no redis-server or service behind, and the next start resumes.
/// </summary>
public sealed class AppHostRestartTests : IDisposable
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Cleanup = TimeSpan.FromSeconds(30);
    private readonly TinyPlatformData data = new();

    [Fact]
    public async Task AKilledTeacherIsStartedAgainAndTheRunStillCompletes()
    {
        await using var apphost = AppHostProcess.Start(data.Directory, data.Flags(40, 10));
        var run = new RunDirectory(Path.Combine(data.RunsDirectory, "default"));
        await WaitForAsync(() => File.Exists(run.MetricsPath) && File.ReadAllLines(run.MetricsPath).Length >= 1, apphost);
        // The service itself, not the `dotnet run` that DCP starts it with.
        var teacher = AppHostProcess.ProcessesOf(data.Teacher.Directory)
            .First(p => p.CommandLine.Contains("/bin/") && p.CommandLine.Contains("Distill.TeacherService") && !p.CommandLine.Contains("--project"));
        Process.GetProcessById(teacher.Id).Kill();

        Assert.True(await apphost.WaitForExitAsync(RunLimit) == 0, apphost.Tail);
        Assert.True(run.IsCompleted);
        Assert.Empty(run.VerifyMetrics(40));
        Assert.Contains(apphost.Output, line => line.StartsWith("teacher: exited with code") && line.Contains("restarting (1 of 3)"));
        Assert.Empty(await AppHostProcess.LeftoversAfterAsync(data.Directory, Cleanup));
    }

    [Fact]
    public async Task AStoppedOrKilledAppHostLeavesNothingBehindAndTheNextStartResumes()
    {
        var run = new RunDirectory(Path.Combine(data.RunsDirectory, "default"));

        await using (var stopped = AppHostProcess.Start(data.Directory, data.Flags(60, 10)))
        {
            await WaitForAsync(() => run.ReadAnnouncements().Count >= 1, stopped);
            stopped.Terminate();
            Assert.NotEqual(0, await stopped.WaitForExitAsync(RunLimit));
        }
        Assert.Empty(await AppHostProcess.LeftoversAfterAsync(data.Directory, Cleanup));

        await using (var killed = AppHostProcess.Start(data.Directory, data.Flags(60, 10)))
        {
            int before = run.ReadAnnouncements().Count;
            await WaitForAsync(() => run.ReadAnnouncements().Count > before, killed);
            killed.Kill();
            await killed.WaitForExitAsync(RunLimit);
        }
        // DCP stops the resources of an AppHost that died without stopping them.
        Assert.Empty(await AppHostProcess.LeftoversAfterAsync(data.Directory, Cleanup));
        Assert.False(run.IsCompleted);

        await using var resumed = AppHostProcess.Start(data.Directory, data.Flags(60, 10));
        Assert.True(await resumed.WaitForExitAsync(RunLimit) == 0, resumed.Tail);
        Assert.Contains(resumed.Output, line => line.Contains("continuing the run there (same settings)"));
        Assert.True(run.IsCompleted);
        Assert.Empty(run.VerifyMetrics(60));
        Assert.Empty(await AppHostProcess.LeftoversAfterAsync(data.Directory, Cleanup));
    }

    private static async Task WaitForAsync(Func<bool> condition, AppHostProcess apphost)
    {
        var deadline = DateTime.UtcNow + RunLimit;
        while (!condition())
        {
            if (apphost.HasExited) throw new InvalidOperationException($"the AppHost exited early:\n{apphost.Tail}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException(apphost.Tail);
            await Task.Delay(200);
        }
    }

    public void Dispose() => data.Dispose();
}
