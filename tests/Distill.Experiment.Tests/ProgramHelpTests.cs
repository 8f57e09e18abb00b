using System.Diagnostics;
using System.Reflection;

namespace Distill.Experiment.Tests;

/// <summary>
/// Every program on the shared command line answers <c>--help</c> as its users run it (the built program, in its own
/// process): exit code 0, each command's flags with their defaults, and nothing started.
/// </summary>
public class ProgramHelpTests
{
    [Theory]
    [InlineData("Distill.ExperimentPath", "")]
    [InlineData("Distill.StudentTrainerPath", "")]
    [InlineData("Distill.StudentTrainerPath", "bootstrap")]
    [InlineData("Distill.EvaluatorPath", "")]
    [InlineData("Distill.EvaluatorPath", "evaluate")]
    [InlineData("Distill.EvaluatorPath", "watch")]
    [InlineData("Distill.BenchmarksPath", "")]
    [InlineData("Distill.BenchmarksPath", "teacher-service")]
    [InlineData("Distill.BenchmarksPath", "trainer")]
    [InlineData("Distill.BenchmarksPath", "decode")]
    [InlineData("Distill.BenchmarksPath", "estimators")]
    public async Task TheProgramAnswersHelpWithEachFlagItsDefaultAndMeaning(string program, string command)
    {
        var (exitCode, output) = await RunAsync(program, [.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);

        Assert.True(exitCode == 0, output);
        Assert.Contains("Options:", output);
        Assert.Contains("-h, --help", output);
        // The evaluator's serve flags (--runs-root, --run-dir) have no default: without them it serves nothing.
        if (!(program == "Distill.EvaluatorPath" && command == ""))
            Assert.Contains("[default: ", output);
    }

    [Theory]
    [InlineData("Distill.ExperimentPath")]
    [InlineData("Distill.StudentTrainerPath")]
    [InlineData("Distill.EvaluatorPath")]
    [InlineData("Distill.BenchmarksPath")]
    public async Task AnUnknownFlagIsAnErrorNamingItWithExitCode2AndNoStackTrace(string program)
    {
        var (exitCode, output) = await RunAsync(program, ["--no-such-flag", "1"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("error: unknown flag --no-such-flag", output);
        Assert.DoesNotContain("   at ", output);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] args)
    {
        var path = typeof(ProgramHelpTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == program).Value!;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(path);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{path} {string.Join(' ', args)} did not exit within a minute.");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
