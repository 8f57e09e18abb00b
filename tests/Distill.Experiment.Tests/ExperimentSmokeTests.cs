using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Distill.Core.Runs;
using Distill.Testing;

namespace Distill.Experiment.Tests;

/// <summary>
/// The experiment of docs/results.md, shrunk to one seed, two thresholds and a few steps, run as its users run it: the
/// built program in its own process, on the default models, with the real teacher service and the real evaluator.
/// </summary>
public sealed class ExperimentSmokeTests(DefaultModelsFixture models) : IClassFixture<DefaultModelsFixture>, IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("distill-experiment-").FullName;

    [Fact]
    public async Task TheScriptedExperimentRunsEveryMethodEvaluatesEveryFinalCheckpointAndWritesTheReport()
    {
        string[] args = ["--out", output, "--models", models.Directory, "--device", "cpu", "--thresholds", "8,12", "--seeds", "3",
            "--steps", "3", "--batch-size", "4", "--group-size", "4", "--warmup-steps", "0", "--lr", "0.0005",
            "--checkpoint-every", "2", "--eval-problems", "8", "--eval-samples", "2", "--penalties", "2", "--kappas", "0",
            "--lambda-lrs", "0.05", "--eval-every-checkpoint", "--cost-estimator", "exact"];
        var (exitCode, log) = await RunExperimentAsync(args);
        Assert.True(exitCode == 0, log);

        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var outcomes = results.RootElement.GetProperty("outcomes").EnumerateArray().ToArray();
        // cmdp and lagrangian at each d, five d-free methods compared with each d, three sensitivity runs at the middle d.
        Assert.Equal(2 * 2 + 5 * 2 + 3, outcomes.Length);
        Assert.Empty(results.RootElement.GetProperty("failures").EnumerateArray());
        foreach (var outcome in outcomes)
        {
            Assert.InRange(outcome.GetProperty("greedyAccuracy").GetDouble(), 0, 1);
            Assert.InRange(outcome.GetProperty("satisfactionRate").GetDouble(), 0, 1);
            Assert.True(outcome.GetProperty("costMean").GetDouble() is var kl && double.IsFinite(kl), "mean KL is finite");
        }
        // A d-free run is one run compared with each d: at the larger d at least as many samples are within budget.
        var rewardOnly = outcomes.Where(o => o.GetProperty("run").GetString() == "reward-only-s3")
            .ToDictionary(o => o.GetProperty("threshold").GetDouble(), o => o.GetProperty("satisfactionRate").GetDouble());
        Assert.True(rewardOnly[12] >= rewardOnly[8]);

        // Each run trained at one d is also measured at the other: cmdp and lagrangian at 8 measured at 12, and back.
        var otherThresholds = results.RootElement.GetProperty("otherThresholds").EnumerateArray().ToArray();
        Assert.Equal(2 * 2, otherThresholds.Length);
        var cmdpAt8 = otherThresholds.Single(o => o.GetProperty("run").GetString() == "cmdp-d8-s3");
        Assert.Equal((12.0, 8.0), (cmdpAt8.GetProperty("threshold").GetDouble(), cmdpAt8.GetProperty("trainedAt").GetDouble()));
        Assert.True(cmdpAt8.GetProperty("satisfactionRate").GetDouble() >=
                    outcomes.Single(o => o.GetProperty("run").GetString() == "cmdp-d8-s3").GetProperty("satisfactionRate").GetDouble());

        var markdown = File.ReadAllText(Path.Combine(output, "results.md"));
        foreach (var row in new[] { "| start (warm student) |", "| cmdp |", "| lagrangian |", "| kl-penalty λ=0.05 |", "| kl-penalty λ=0.2 |",
                     "| reward-only |", "| distill |", "| sft |", "## Sensitivity",
                     "## Trained at one d, measured at another", "| 12 | cmdp | 8 | 1 |", "| n2 |", "| kappa0 |", "| lambdalr0.05 |", "Teacher greedy accuracy" })
            Assert.Contains(row, markdown);
        Assert.Contains("per-token training costs by `exact`", markdown);
        Assert.Contains("advantages by `group-mean`", markdown);

        // Where each method's violations sat while it trained: every main method but sft (it samples nothing) at its d.
        var placements = results.RootElement.GetProperty("violationPlacements").EnumerateArray().ToArray();
        Assert.Equal(2 * 2 + 4, placements.Length);
        Assert.DoesNotContain(placements, p => p.GetProperty("method").GetString() == "sft");
        foreach (var placement in placements)
            foreach (var share in new[] { "violationRate", "wholeGroupViolationShare", "splitViolationGroupShare", "equalRewardGroupShare" })
                Assert.InRange(placement.GetProperty(share).GetProperty("mean").GetDouble(), 0, 1);
        Assert.Contains("## Where the violations sat on training batches", markdown);
        Assert.Contains("| 8 | cmdp | 1 |", markdown);
        // Every checkpoint on the held-out set (--eval-every-checkpoint): step 2 evaluated beside the final step 3, whose
        // row is the final evaluation's; a d-free run at each d.
        var checkpoints = results.RootElement.GetProperty("checkpoints").EnumerateArray().ToArray();
        Assert.Equal([(8.0, 2), (8.0, 3)], checkpoints.Where(c => c.GetProperty("run").GetString() == "cmdp-d8-s3")
            .Select(c => (c.GetProperty("threshold").GetDouble(), c.GetProperty("step").GetInt32())));
        Assert.Equal([(8.0, 2), (8.0, 3), (12.0, 2), (12.0, 3)], checkpoints.Where(c => c.GetProperty("run").GetString() == "reward-only-s3")
            .Select(c => (c.GetProperty("threshold").GetDouble(), c.GetProperty("step").GetInt32())));
        Assert.All(checkpoints, c => Assert.Equal(JsonValueKind.Null, c.GetProperty("error").ValueKind));
        var finalCmdp = outcomes.Single(o => o.GetProperty("run").GetString() == "cmdp-d8-s3");
        var lastCmdp = checkpoints.Last(c => c.GetProperty("run").GetString() == "cmdp-d8-s3");
        foreach (var metric in new[] { "greedyAccuracy", "satisfactionRate", "costMean" })
            Assert.Equal(finalCmdp.GetProperty(metric).GetDouble(), lastCmdp.GetProperty(metric).GetDouble());
        Assert.True(File.Exists(Path.Combine(output, "runs", "cmdp-d8-s3", "evaluations", "step-000002", "evaluation.json")));
        Assert.Contains("## Every checkpoint on the held-out set", markdown);
        Assert.Contains("| cmdp-d8-s3 | 8 | 2 |", markdown);
        foreach (var figure in new[] { "pareto.png", "training-curves.png" })
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(output, figure)).Take(4));

        // The default models' teacher has a blind spot (bootstrap.json): every evaluation splits its metrics by it.
        using (var start = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "start", "student", "evaluation.json"))))
        {
            var parts = start.RootElement.GetProperty("subsets").EnumerateArray().ToArray();
            Assert.Equal(8, parts.Sum(p => p.GetProperty("problems").GetInt32()));
            Assert.Contains(parts, p => p.GetProperty("name").GetString() == "rest");
        }

        // sft samples nothing while it trains (a loss, no reward, the gradient's norm), yet its checkpoint was evaluated
        // like every other's above.
        Assert.All(new RunDirectory(Path.Combine(output, "runs", "sft-s3")).ReadMetrics(),
            step => Assert.True(step.Loss > 0 && double.IsFinite(step.Loss) && step.Reward == 0 && step.GradientNorm is > 0 and < double.PositiveInfinity,
                $"sft step {step.Step}: loss {step.Loss}, reward {step.Reward}, gradient norm {step.GradientNorm}"));

        // Every run used the same schedule: the same steps and the same number of teacher-scored samples.
        foreach (var run in Directory.EnumerateDirectories(Path.Combine(output, "runs")).Select(path => new RunDirectory(path)))
        {
            Assert.True(run.IsCompleted, run.Path);
            Assert.Equal([1, 2, 3], run.ReadMetrics().Select(m => m.Step));
            Assert.Equal(Distill.Core.Divergence.CostEstimator.Exact, run.ReadManifest().CostEstimator);
        }

        // Running the same command again reads finished runs and their evaluations back instead of redoing them.
        var metricsFiles = Directory.EnumerateFiles(Path.Combine(output, "runs"), "metrics.jsonl", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(output, "runs"), "evaluation.json", SearchOption.AllDirectories))
            .ToDictionary(path => path, File.GetLastWriteTimeUtc);
        (exitCode, log) = await RunExperimentAsync(args);
        Assert.True(exitCode == 0, log);
        Assert.All(metricsFiles, file => Assert.Equal(file.Value, File.GetLastWriteTimeUtc(file.Key)));

        // The same --out read back for a validation sweep: its test-split evaluations are refused, not reused, and the
        // message names the flags.
        (exitCode, log) = await RunExperimentAsync([.. args, "--eval-split", "validation"]);
        Assert.Equal(2, exitCode);
        Assert.Contains("--eval-split", log);
        Assert.Contains("give this experiment its own --out", log);
        Assert.DoesNotContain("   at ", log);
        Assert.All(metricsFiles, file => Assert.Equal(file.Value, File.GetLastWriteTimeUtc(file.Key)));

        // The same --out read back for runs trained on k1 costs: its runs trained on exact ones are refused, not reported
        // as k1's, and the message names the flag.
        (exitCode, log) = await RunExperimentAsync([.. args[..^1], "k1"]);
        Assert.Equal(2, exitCode);
        Assert.Contains("--cost-estimator exact, not k1", log);
        Assert.Contains("give this experiment its own --out", log);
        Assert.DoesNotContain("   at ", log);
        Assert.All(metricsFiles, file => Assert.Equal(file.Value, File.GetLastWriteTimeUtc(file.Key)));

        // The same --out read back with other models (here: the record of the models it was made from says another
        // bootstrap): its runs did not start from this student, so they are refused, naming --models.
        var recorded = Path.Combine(output, ExperimentModels.FileName);
        using (var identity = JsonDocument.Parse(File.ReadAllText(recorded)))
            Assert.Equal(models.Report.FinishedAt, identity.RootElement.GetProperty("finishedAt").GetDateTimeOffset());
        File.WriteAllText(recorded, File.ReadAllText(recorded).Replace("\"finishedAt\":\"", "\"finishedAt\":\"1"));
        (exitCode, log) = await RunExperimentAsync(args);
        Assert.Equal(2, exitCode);
        Assert.Contains("--models", log);
        Assert.Contains("give this experiment its own --out", log);
        Assert.All(metricsFiles, file => Assert.Equal(file.Value, File.GetLastWriteTimeUtc(file.Key)));
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task ASignalStopsTheExperimentWithAMessageAndTheSameCommandFinishesTheRunFromItsLastCheckpoint(string signal)
    {
        string[] args = ["--out", output, "--models", models.Directory, "--device", "cpu", "--thresholds", "8", "--seeds", "3",
            "--objectives", "cmdp", "--steps", "120", "--batch-size", "2", "--group-size", "2", "--warmup-steps", "0",
            "--checkpoint-every", "5", "--eval-problems", "4", "--eval-samples", "1", "--sensitivity", "false"];
        using var process = StartExperiment(args);
        var log = new System.Text.StringBuilder();
        var training = new TaskCompletionSource();
        void Read(string? line)
        {
            if (line is null) return;
            lock (log) log.AppendLine(line);
            if (line.Contains("step 10/120", StringComparison.Ordinal)) training.TrySetResult();
        }
        process.OutputDataReceived += (_, e) => Read(e.Data);
        process.ErrorDataReceived += (_, e) => Read(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            await training.Task.WaitAsync(timeout.Token);
            // kill(1), not Process.Kill (SIGKILL): the signal a user or a CI timeout sends.
            using (var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"SIG{signal} did not stop the experiment within 4 minutes:\n{log}");
        }

        var stopped = log.ToString();
        Assert.True(process.ExitCode == 130, stopped);
        Assert.Contains("Stopped after", stopped);
        Assert.DoesNotContain("   at ", stopped);
        var run = new RunDirectory(Path.Combine(output, "runs", "cmdp-d8-s3"));
        Assert.False(run.IsCompleted);
        Assert.NotNull(run.ReadLatestCheckpoint());

        // The same command finishes the run from its last checkpoint: every step once, and the final one evaluated.
        var (exitCode, finished) = await RunExperimentAsync(args);
        Assert.True(exitCode == 0, finished);
        Assert.True(run.IsCompleted);
        Assert.Equal(Enumerable.Range(1, 120), run.ReadMetrics().Select(m => m.Step));
        Assert.True(File.Exists(Path.Combine(run.EvaluationPath(120), "evaluation.json")));
    }

    [Fact]
    public async Task ACheckpointThatCannotBeEvaluatedIsAReportRowThatSaysWhyAndTheOtherCheckpointsStand()
    {
        string[] args = ["--out", output, "--models", models.Directory, "--device", "cpu", "--thresholds", "8", "--seeds", "3",
            "--objectives", "cmdp", "--steps", "3", "--batch-size", "2", "--group-size", "2", "--warmup-steps", "0",
            "--checkpoint-every", "2", "--eval-problems", "4", "--eval-samples", "1", "--sensitivity", "false"];
        var (exitCode, log) = await RunExperimentAsync(args);
        Assert.True(exitCode == 0, log);

        // The run's step-2 checkpoint is damaged after training, before anyone evaluated it; then every checkpoint is asked for.
        var run = new RunDirectory(Path.Combine(output, "runs", "cmdp-d8-s3"));
        File.WriteAllText(Path.Combine(run.CheckpointPath(2), "model.safetensors"), "not a safetensors file");
        (exitCode, log) = await RunExperimentAsync([.. args, "--eval-every-checkpoint"]);
        Assert.True(exitCode == 0, log);
        Assert.DoesNotContain("   at ", log);

        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var checkpoints = results.RootElement.GetProperty("checkpoints").EnumerateArray()
            .ToDictionary(c => c.GetProperty("step").GetInt32());
        Assert.Equal([2, 3], checkpoints.Keys.Order());
        var error = checkpoints[2].GetProperty("error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(error));
        // The final checkpoint, untouched, keeps its evaluation from the first invocation.
        Assert.Equal(JsonValueKind.Null, checkpoints[3].GetProperty("error").ValueKind);
        Assert.InRange(checkpoints[3].GetProperty("greedyAccuracy").GetDouble(), 0, 1);
        var markdown = File.ReadAllText(Path.Combine(output, "results.md"));
        Assert.Contains($"| cmdp-d8-s3 | 8 | 2 | not evaluated: {error.Split('\n')[0]}", markdown);
        Assert.Contains("| cmdp-d8-s3 | 8 | 3 |", markdown);
    }

    [Fact]
    public async Task ABadFlagExitsWithAMessageNamingIt()
    {
        var (exitCode, log) = await RunExperimentAsync(["--thresholds", "eight"]);
        Assert.Equal(2, exitCode);
        Assert.Contains("--thresholds", log);
        Assert.DoesNotContain("   at ", log);
    }

    /// <summary>The built experiment program in its own process, its output redirected.</summary>
    private static Process StartExperiment(string[] args)
    {
        var program = typeof(ExperimentSmokeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Distill.ExperimentPath").Value!;
        // Through env(1) with SIGINT at its default: a test run started in the background by a non-interactive shell
        // (a CI script's `cmd &`) inherits SIGINT ignored, as POSIX asks, and the runtime keeps an ignored SIGINT
        // ignored, so the Ctrl+C a user's terminal sends could not be tested there.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--default-signal=INT", "dotnet", program }) start.ArgumentList.Add(arg);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    private static async Task<(int ExitCode, string Log)> RunExperimentAsync(string[] args)
    {
        using var process = StartExperiment(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the experiment did not finish in 8 minutes:\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    public void Dispose() => Directory.Delete(output, recursive: true);
}
