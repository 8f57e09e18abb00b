using Distill.Core.Divergence;
using Distill.Core.Runs;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Reports;
using Distill.Evaluator.Runs;

namespace Distill.Evaluator.Tests;

/// <summary>Real run directories as the trainer writes them, and evaluations as the evaluator stores them.</summary>
public static class TestRuns
{
    public static RunDirectory CreateRun(string path, string runId, string objective = "cmdp", double threshold = 2.0)
    {
        var run = new RunDirectory(path);
        RunDirectory.WriteJsonAtomically(run.ManifestPath, new RunManifest(runId, objective, threshold, CostEstimator.K1,
            CostAggregation.Sum, BudgetScope.Sequence, 7,
            "student", "teacher", "arithmetic", 100, DateTimeOffset.UnixEpoch));
        return run;
    }

    public static TrainingStepMetrics StepMetrics(int step, double? lambda = null) => new(
        step, Reward: 0.1 * step, Accuracy: 0.05 * step, CostMean: 1.0 + 0.1 * step, CostP90: 2.0 + 0.1 * step,
        ConstraintSatisfactionRate: 1.0 - 0.05 * step, ViolationRate: 0.05 * step, lambda, ShapedRewardMean: 0.1, Entropy: 1.2,
        ResponseLength: 40, GeneratedTokensPerSecond: 1000, TeacherLatencyMs: 20, CacheHitRatio: 0.5, Loss: 0.3, StepSeconds: 2,
        DateTimeOffset.UnixEpoch.AddSeconds(step));

    /// <summary>An evaluation of 4 problems × 2 samples; <paramref name="costs"/>, when given, are its 8 sequence costs.</summary>
    public static CheckpointEvaluation Evaluation(string runId, int step, double accuracy, double satisfaction, double costMean, double threshold = 2.0,
        double[]? costs = null) => new(
        runId, step, $"/runs/{runId}/checkpoints/step-{step:D6}",
        new ConstraintSettings("cmdp", threshold, CostEstimator.TopKExact, CostAggregation.Sum),
        new HeldOutSettings("generated-test-seed-1", 4, 2, 1.0, 64, 1),
        new EvaluationMetrics(accuracy, accuracy - 0.05, 0.9, costMean, costMean, costMean + 1, costMean + 2, satisfaction,
            [new ThresholdSatisfaction(threshold, satisfaction), new ThresholdSatisfaction(2 * threshold, 1.0)], 42.5, 1000,
            Math.Max(0, satisfaction - 0.1), Math.Min(1, satisfaction + 0.1)),
        costs ?? [0.5, 1.0, costMean, 3.5, 5.0, 0.0, 1.5, 2.5],
        DateTimeOffset.UnixEpoch, 1.5);

    public static void StoreEvaluation(RunDirectory run, CheckpointEvaluation evaluation) =>
        EvaluationReportWriter.Write(run.EvaluationPath(evaluation.Step), evaluation, run.ReadMetrics(), EvaluationStore.ReadSucceeded(run));
}
