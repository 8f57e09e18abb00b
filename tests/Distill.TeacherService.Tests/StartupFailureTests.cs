using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Distill.Testing;

namespace Distill.TeacherService.Tests;

/// <summary>
/// Issue 15: a truncated <c>model.safetensors</c> left the service up and Unhealthy, and the orchestrator waited up to
/// its 15-minute health timeout. A model that cannot load is a start-up failure: the process exits with
/// <c>ServiceExitCodes.CannotStart</c> and an <c>error:</c> line that says why.
/// </summary>
public sealed class StartupFailureTests
{
    [Fact]
    public async Task ATruncatedModelMakesTheServiceExitWithTheReason()
    {
        using var checkpoint = new TeacherCheckpoint();
        var weights = Path.Combine(checkpoint.Directory, "model.safetensors");
        using (var file = new FileStream(weights, FileMode.Open))
            file.SetLength(file.Length / 2);

        var assembly = typeof(StartupFailureTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Distill.TeacherServicePath").Value!;
        var start = new ProcessStartInfo("dotnet", [assembly]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Teacher__ModelPath"] = checkpoint.Directory;
        start.Environment["Teacher__Device"] = "cpu";
        var errors = new ConcurrentQueue<string>();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) errors.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            Assert.Fail("the service was still running 90 s after it was started with a truncated model");
        }
        Assert.Equal(Distill.ServiceDefaults.ServiceExitCodes.CannotStart, process.ExitCode);
        Assert.Contains(errors, line => line.StartsWith("error: the teacher cannot load:", StringComparison.Ordinal));
    }
}
