using System.Diagnostics;
using System.Reflection;

namespace Distill.TeacherService.Tests;

/// <summary>The teacher service's command line, as its users run it (the built program, in its own process).</summary>
public sealed class CommandLineTests
{
    [Fact]
    public async Task HelpListsTheFlagsWithTheirDefaults()
    {
        var (exitCode, output) = await RunAsync(["--help"]);

        Assert.True(exitCode == 0, output);
        foreach (var flag in new[] { "--backend", "--model-path", "--device", "--dtype", "--openai-base-address", "--cache" })
            Assert.Contains(flag, output);
        Assert.Contains("[default: torch]", output);
        Assert.Contains("[default: float32]", output);
    }

    [Theory]
    [InlineData("--modle-path", "/tmp/x", "unknown flag --modle-path")]
    [InlineData("--backend", "tensorflow", "--backend must be one of torch|onnx|openai (got tensorflow)")]
    public async Task ABadFlagIsRefusedNamingItWithExitCode2(string flag, string value, string message)
    {
        var (exitCode, output) = await RunAsync([flag, value]);

        Assert.Equal(2, exitCode);
        Assert.Contains(message, output);
        Assert.DoesNotContain("   at ", output);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string[] args)
    {
        var assembly = typeof(CommandLineTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Distill.TeacherServicePath").Value!;
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[assembly, .. args]) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await output + await errors);
    }
}
