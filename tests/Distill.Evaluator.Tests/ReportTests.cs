using System.Buffers.Binary;
using Distill.Core.Runs;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Reports;
using Distill.Evaluator.Runs;

namespace Distill.Evaluator.Tests;

public class ReportTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A PNG: the signature, then an IHDR chunk whose first fields are width and height, big-endian.</summary>
    private static void AssertPng(string path, int width, int height)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 10_000, $"{path} has only {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));
    }

    [Fact]
    public void TrainingCurvesAreAPngThatMarksTheHeldOutEvaluations()
    {
        using var directory = new TemporaryDirectory();
        TrainingStepMetrics[] metrics = [.. Enumerable.Range(1, 20).Select(step => TestRuns.StepMetrics(step, lambda: 0.01 * step))];
        CheckpointEvaluation[] heldOut =
        [
            TestRuns.Evaluation("run-a", 0, accuracy: 0.4, satisfaction: 0.6, costMean: 3.0),
            TestRuns.Evaluation("run-a", 20, accuracy: 0.5, satisfaction: 0.9, costMean: 1.5),
        ];

        EvaluationPlots.SaveTrainingCurves(directory.Combine("marked.png"), metrics, threshold: 2.0, heldOut);
        EvaluationPlots.SaveTrainingCurves(directory.Combine("unmarked.png"), metrics, threshold: 2.0, []);

        AssertPng(directory.Combine("marked.png"), EvaluationPlots.TrainingCurvesWidth, EvaluationPlots.TrainingCurvesHeight);
        AssertPng(directory.Combine("unmarked.png"), EvaluationPlots.TrainingCurvesWidth, EvaluationPlots.TrainingCurvesHeight);
        Assert.NotEqual(File.ReadAllBytes(directory.Combine("unmarked.png")), File.ReadAllBytes(directory.Combine("marked.png")));
    }

    [Fact]
    public void TheTrailingMeanAveragesTheWindowThatEndsAtEachStep()
    {
        Assert.Equal([1, 1.5, 2, 2.5, 3, 4], EvaluationPlots.TrailingMean([1, 2, 3, 4, 5, 6], window: 5));
        Assert.Equal([3, 1, 2], EvaluationPlots.TrailingMean([3, 1, 2], window: 1));
        Assert.Empty(EvaluationPlots.TrailingMean([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvaluationPlots.TrailingMean([1], window: 0));
    }

    [Fact]
    public void TheCurvesMarkEarlierEvaluationsOfTheSameHeldOutSetAndConstraintOnly()
    {
        var current = TestRuns.Evaluation("run-a", 20, accuracy: 0.5, satisfaction: 0.9, costMean: 1.5);
        var start = TestRuns.Evaluation("run-a", 0, accuracy: 0.4, satisfaction: 0.6, costMean: 3.0);
        var step10 = TestRuns.Evaluation("run-a", 10, accuracy: 0.45, satisfaction: 0.8, costMean: 2.0);
        var later = TestRuns.Evaluation("run-a", 30, accuracy: 0.6, satisfaction: 0.95, costMean: 1.0);
        var otherThreshold = TestRuns.Evaluation("run-a", 5, accuracy: 0.4, satisfaction: 0.7, costMean: 2.5, threshold: 4.0);
        var otherSet = step10 with { Step = 15, HeldOut = step10.HeldOut with { Problems = 8 } };

        var marks = EvaluationReportWriter.HeldOutMarks(current, [step10, later, otherThreshold, start, otherSet]);

        Assert.Equal([0, 10, 20], marks.Select(e => e.Step));
    }

    [Fact]
    public void KlDistributionIsAPngEvenForOneRepeatedValue()
    {
        using var directory = new TemporaryDirectory();

        EvaluationPlots.SaveCostDistribution(directory.Combine("spread.png"), [0.1, 0.5, 0.7, 1.2, 2.5, 3.0, -0.2], threshold: 1.0, "spread");
        EvaluationPlots.SaveCostDistribution(directory.Combine("single.png"), [1.0, 1.0, 1.0], threshold: 1.0, "single");

        AssertPng(directory.Combine("spread.png"), EvaluationPlots.Width, EvaluationPlots.Height);
        AssertPng(directory.Combine("single.png"), EvaluationPlots.Width, EvaluationPlots.Height);
    }

    [Fact]
    public void ParetoIsAPng()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.Combine("pareto.png");

        EvaluationPlots.SavePareto(path, [new("a", "cmdp", 0.6, 0.95, 1.2), new("b", "reward-only", 0.7, 0.4, 6.0), new("c", "cmdp", 0.55, 0.99, 0.8)]);

        AssertPng(path, EvaluationPlots.Width, EvaluationPlots.Height);
    }

    [Fact]
    public void ReportsOfACheckpointInARunAreWrittenTogether()
    {
        using var directory = new TemporaryDirectory();
        var run = TestRuns.CreateRun(directory.Combine("run-a"), "run-a");
        foreach (var step in new[] { 10, 20, 30 })
            Distill.Core.Runs.RunDirectory.AppendJsonLine(run.MetricsPath, TestRuns.StepMetrics(step));

        TestRuns.StoreEvaluation(run, TestRuns.Evaluation("run-a", 20, accuracy: 0.5, satisfaction: 0.75, costMean: 1.5));

        var folder = run.EvaluationPath(20);
        AssertPng(Path.Combine(folder, EvaluationReportWriter.CostDistributionFileName), EvaluationPlots.Width, EvaluationPlots.Height);
        AssertPng(Path.Combine(folder, EvaluationReportWriter.TrainingCurvesFileName), EvaluationPlots.TrainingCurvesWidth, EvaluationPlots.TrainingCurvesHeight);
        var summary = File.ReadAllText(Path.Combine(folder, EvaluationReportWriter.SummaryFileName));
        Assert.Contains("| accuracy, greedy | 50.0 % |", summary);
        Assert.Contains("| constraint satisfaction rate at d (95 % CI, bootstrap over problems) | 75.0 % (65.0 % – 85.0 %) |", summary);
        Assert.Contains("KL estimator: top-k-exact, k = 0; sum over tokens; CSR in sequence scope.", summary);
        var json = File.ReadAllText(Path.Combine(folder, EvaluationStore.EvaluationFileName));
        Assert.Contains("\"estimator\": \"top-k-exact\"", json);
        var stored = Assert.Single(EvaluationStore.ReadAll(run));
        Assert.Equal(20, stored.Step);
        Assert.Equal(0.75, stored.Evaluation!.Metrics.SatisfactionRate);
        Assert.Equal(8, stored.Evaluation.SequenceCosts.Count);
    }

    [Fact]
    public void TheRunSummaryGivesEachCsrWithItsIntervalAndTheChangePairedByProblem()
    {
        using var directory = new TemporaryDirectory();
        var run = TestRuns.CreateRun(directory.Combine("run-b"), "run-b", threshold: 0.6);
        // Four problems × two samples, within d = 0.6: 1, 1, 2, 0 of each problem's two at step 0; 2, 2, 2, 1 at step 30.
        TestRuns.StoreEvaluation(run, TestRuns.Evaluation("run-b", 0, accuracy: 0.58, satisfaction: 0.5, costMean: 1.25, threshold: 0.6,
            costs: [0.5, 1.0, 0.2, 2.0, 0.1, 0.3, 5.0, 4.0]));
        TestRuns.StoreEvaluation(run, TestRuns.Evaluation("run-b", 30, accuracy: 0.615, satisfaction: 0.875, costMean: 0.5, threshold: 0.6,
            costs: [0.5, 0.4, 0.2, 0.6, 0.1, 0.3, 5.0, 0.5]));

        var summary = EvaluationRunner.RunSummary(run, 30);

        Assert.StartsWith("Run complete: step 0 → 30: accuracy 58.0 % → 61.5 %, mean KL 1.25 → 0.50, ", summary);
        // Per-problem gains of ½, ½, 0, ½: the change is 37.5 points; resampling four problems, the 2.5th percentile is
        // one gaining problem of four (12.5) and the 97.5th all four (50.0).
        Assert.Contains("CSR at d = 0.6 50.0 % (40.0 % – 60.0 %) → 87.5 % (77.5 % – 97.5 %), change +37.5 points (12.5 to 50.0) " +
                        "(top-k-exact KL; 95 % bootstrap intervals over problems, the change's paired by problem).", summary);
        Assert.EndsWith(Path.Combine(run.EvaluationPath(30), EvaluationReportWriter.SummaryFileName), summary);
    }

    [Fact]
    public void TheRunSummaryPairsNoChangeAcrossDifferentHeldOutSets()
    {
        using var directory = new TemporaryDirectory();
        var run = TestRuns.CreateRun(directory.Combine("run-c"), "run-c", threshold: 0.6);
        TestRuns.StoreEvaluation(run, TestRuns.Evaluation("run-c", 0, accuracy: 0.58, satisfaction: 0.5, costMean: 1.25, threshold: 0.6) with
        {
            HeldOut = new HeldOutSettings("generated-test-seed-2", 4, 2, 1.0, 64, 1),
        });
        TestRuns.StoreEvaluation(run, TestRuns.Evaluation("run-c", 30, accuracy: 0.615, satisfaction: 0.875, costMean: 0.5, threshold: 0.6));

        var summary = EvaluationRunner.RunSummary(run, 30);

        Assert.Contains("→ 87.5 % (77.5 % – 97.5 %) (top-k-exact KL; 95 % bootstrap intervals over problems).", summary);
        Assert.DoesNotContain("change", summary);
    }
}
