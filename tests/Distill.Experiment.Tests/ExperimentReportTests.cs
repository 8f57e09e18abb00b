using Distill.Core.Divergence;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Runs;

namespace Distill.Experiment.Tests;

/// <summary>The report's table of every checkpoint (<c>--eval-every-checkpoint</c>), from results made here.</summary>
public sealed class ExperimentReportTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("distill-report-").FullName;

    [Fact]
    public void EveryCheckpointIsARowAtItsRunsDAndOneThatFailedSaysWhyWithoutLosingTheOthers()
    {
        var options = ExperimentOptions.Parse(["--thresholds", "2", "--seeds", "1", "--steps", "4", "--eval-every-checkpoint"]);
        var plan = new PlannedRun("cmdp-d2-s1", "cmdp", "cmdp", 2, 1, RunGroup.Main, new Dictionary<string, string>(), null, 1e-4);
        var failed = new EvaluationFailure(plan.Name, 3, "/runs/cmdp-d2-s1/checkpoints/step-000003", "the checkpoint is truncated", DateTimeOffset.UtcNow);
        var result = new RunResult(plan, [], Evaluation(step: 4, greedy: 0.75, costs: [1, 1, 1, 3]), null,
            [new StoredEvaluation(plan.Name, 1, Evaluation(step: 1, greedy: 0.5, costs: [1, 3, 3, 3]), null),
             new StoredEvaluation(plan.Name, 3, null, failed)]);

        var report = ExperimentReport.Create(options, [result], start: null, "command", "machine", wallSeconds: 1);

        Assert.Equal([1, 3, 4], report.Checkpoints.Select(c => c.Step));
        Assert.All(report.Checkpoints, c => Assert.Equal(2, c.Threshold));
        // The CSR at the run's d from each checkpoint's own samples: 1 of 4 within d at step 1, 3 of 4 at the final step.
        Assert.Equal([0.25, 0.75], report.Checkpoints.Where(c => c.Error is null).Select(c => c.SatisfactionRate));
        Assert.Equal((0.5, 0.75), (report.Checkpoints[0].GreedyAccuracy, report.Checkpoints[2].GreedyAccuracy));
        Assert.Equal("the checkpoint is truncated", report.Checkpoints[1].Error);

        var markdown = report.ToMarkdown();
        Assert.Contains("| cmdp-d2-s1 | 2 | 1 | 50.0 % |", markdown);
        Assert.Contains("| cmdp-d2-s1 | 2 | 3 | not evaluated: the checkpoint is truncated |", markdown);
        Assert.Contains("| cmdp-d2-s1 | 2 | 4 | 75.0 % |", markdown);

        // The failure's NaNs must not stop results.json or the plots from being written.
        report.Write(output, [result]);
        Assert.Contains("the checkpoint is truncated", File.ReadAllText(Path.Combine(output, ExperimentReport.JsonFileName)));
        Assert.True(File.Exists(Path.Combine(output, ExperimentReport.CurvesFileName)));
    }

    [Fact]
    public void WithoutTheFlagThereIsNoCheckpointTable()
    {
        var options = ExperimentOptions.Parse(["--thresholds", "2", "--seeds", "1", "--steps", "4"]);
        var plan = new PlannedRun("cmdp-d2-s1", "cmdp", "cmdp", 2, 1, RunGroup.Main, new Dictionary<string, string>(), null, 1e-4);
        var report = ExperimentReport.Create(options, [new RunResult(plan, [], Evaluation(step: 4, greedy: 0.75, costs: [1, 3]), null)],
            start: null, "command", "machine", wallSeconds: 1);

        Assert.Empty(report.Checkpoints);
        Assert.DoesNotContain("## Every checkpoint on the held-out set", report.ToMarkdown());
    }

    private static CheckpointEvaluation Evaluation(int step, double greedy, double[] costs) => new(
        "cmdp-d2-s1", step, $"/runs/cmdp-d2-s1/checkpoints/step-{step:D6}",
        new ConstraintSettings("cmdp", 2, CostEstimator.Exact, CostAggregation.Sum),
        new HeldOutSettings("generated-test-1", 4, 1, 0.7, 48, 0),
        new EvaluationMetrics(greedy, greedy, null, costs.Average(), 0, 0, costs.Max(), 0, [], 20, 80),
        costs, DateTimeOffset.UtcNow, 1);

    public void Dispose() => Directory.Delete(output, recursive: true);
}
