using Distill.Core.Divergence;
using Distill.Core.Modeling;
using Distill.Core.Runs;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Runs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Distill.Evaluator.Tests;

/// <summary>
/// Watch mode end to end on real files and real (tiny, random) models: checkpoints written with the project's
/// checkpoint writer, scored by the real teacher service, one of them corrupt.
/// </summary>
public sealed class WatchWithRealModelsTests : IDisposable
{
    private const double Threshold = 5.0;
    private readonly TemporaryDirectory directory = new();

    public void Dispose() => directory.Dispose();

    // One layer is enough, and the generated problems' prompts need more than the default context.
    private static readonly LlamaConfig TinyConfig = TinyModels.CharConfig(maxContext: 512) with { NumHiddenLayers = 1 };

    private static void SaveCheckpoint(string path, long seed) => TinyModels.SaveCharCheckpoint(path, seed, TinyConfig);

    [Fact]
    public async Task EvaluatesCheckpointsAnnouncedAfterItStartedAndRecordsTheCorruptOneAsAFailure()
    {
        var teacherCheckpoint = directory.Combine("teacher");
        SaveCheckpoint(teacherCheckpoint, seed: 1);
        await using var teacher = TeacherHost.Start(TeacherHost.Settings(teacherCheckpoint));
        await teacher.WaitUntilReadyAsync();

        var run = TestRuns.CreateRun(directory.Combine("run"), "tiny-run", threshold: Threshold);
        SaveCheckpoint(run.CheckpointPath(10), seed: 2);
        SaveCheckpoint(run.CheckpointPath(20), seed: 3);
        var weights = Path.Combine(run.CheckpointPath(20), ModelCheckpoint.WeightsFileName);
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..200]);
        // Step 30 is the teacher itself: its log-probs equal the teacher's, so every k1 cost is 0 (up to float rounding).
        SaveCheckpoint(run.CheckpointPath(30), seed: 1);
        Announce(run, 10);
        Announce(run, 20);

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TeacherClient:BaseAddress"] = teacher.Address.ToString(),
            ["Evaluator:TeacherCheckpoint"] = teacherCheckpoint,
            ["Evaluator:Device"] = "cpu",
            ["Evaluator:Problems"] = "3",
            ["Evaluator:SamplesPerProblem"] = "2",
            ["Evaluator:MaxNewTokens"] = "12",
            ["Evaluator:PollInterval"] = "00:00:00.050",
        });
        builder.AddServiceDefaults();
        builder.AddEvaluator();
        using var host = builder.Build();
        await host.StartAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var watching = host.Services.GetRequiredService<EvaluationRunner>().WatchAsync(run, timeout.Token);

        while (!EvaluationStore.HasResult(run, 20) && !watching.IsCompleted)
            await Task.Delay(50, timeout.Token);
        Assert.False(watching.IsCompleted, "the watcher stopped before the run completed");
        Announce(run, 30);
        RunDirectory.WriteJsonAtomically(run.CompletedPath, new { steps = 30 });
        var exitCode = await watching;
        await host.StopAsync();

        Assert.Equal(0, exitCode);
        var stored = EvaluationStore.ReadAll(run);
        Assert.Equal([10, 20, 30], stored.Select(s => s.Step));
        Assert.Contains(ModelCheckpoint.WeightsFileName, stored[1].Failure!.Error);

        var student = stored[0].Evaluation!;
        Assert.Equal(6, student.SequenceCosts.Count);
        Assert.Equal(ConstraintSatisfactionRate.At(student.SequenceCosts.ToArray(), Threshold), student.Metrics.SatisfactionRate);
        // The teacher returns its whole 64-symbol distribution, so the evaluator uses the exact per-position KL.
        Assert.Equal(CostEstimator.Exact, student.Constraint.Estimator);
        Assert.Equal(64, student.Constraint.TopK);
        Assert.All(student.SequenceCosts, cost => Assert.True(cost >= 0, $"an exact KL is never negative: {cost}"));
        Assert.NotNull(student.Metrics.TeacherAccuracy);
        Assert.InRange(student.Metrics.MeanResponseTokens, 1, 12);

        var teacherAsStudent = stored[2].Evaluation!;
        Assert.All(teacherAsStudent.SequenceCosts, cost => Assert.InRange(cost, -1e-3, 1e-3));
        Assert.Equal(1.0, teacherAsStudent.Metrics.SatisfactionRate);
        Assert.Equal(teacherAsStudent.Metrics.TeacherAccuracy, teacherAsStudent.Metrics.GreedyAccuracy);
        Assert.True(File.Exists(Path.Combine(run.EvaluationPath(30), Reports.EvaluationReportWriter.CostDistributionFileName)));
    }

    private static void Announce(RunDirectory run, int step) =>
        RunDirectory.AppendJsonLine(run.AnnouncementsPath, new CheckpointAnnouncement(step, $"checkpoints/step-{step:D6}", DateTimeOffset.UtcNow));
}
