using Distill.Core.Runs;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Runs;

namespace Distill.Evaluator.Reports;

/// <summary>Writes one checkpoint's reports: <c>evaluation.json</c>, <c>summary.md</c> and its plots.</summary>
public static class EvaluationReportWriter
{
    public const string SummaryFileName = "summary.md";
    public const string CostDistributionFileName = "kl-distribution.png";
    public const string TrainingCurvesFileName = "training-curves.png";

    /// <summary>
    /// Writes the reports into <paramref name="directory"/>; the training curves only when the trainer's metrics are
    /// known (a checkpoint evaluated outside its run has none), with this evaluation and the run's earlier ones marked
    /// on them (<paramref name="earlierEvaluations"/> may hold any of the run's; <see cref="HeldOutMarks"/> picks). The
    /// JSON goes last: its presence says "done".
    /// </summary>
    public static void Write(string directory, CheckpointEvaluation evaluation, IReadOnlyList<TrainingStepMetrics> trainingMetrics,
        IReadOnlyList<CheckpointEvaluation> earlierEvaluations)
    {
        Directory.CreateDirectory(directory);
        Core.Safetensors.AtomicWrite.WriteText(Path.Combine(directory, SummaryFileName), MarkdownSummary.Render(evaluation));
        EvaluationPlots.SaveCostDistribution(Path.Combine(directory, CostDistributionFileName), evaluation.SequenceCosts,
            evaluation.Constraint.Threshold, Format.Invariant($"{evaluation.RunId}, step {evaluation.Step}: sequence KL of {evaluation.SequenceCosts.Count} samples"));
        var curves = trainingMetrics.Where(m => m.Step <= evaluation.Step).ToArray();
        if (curves.Length > 0)
            EvaluationPlots.SaveTrainingCurves(Path.Combine(directory, TrainingCurvesFileName), curves, evaluation.Constraint.Threshold,
                HeldOutMarks(evaluation, earlierEvaluations));
        EvaluationStore.WriteEvaluation(directory, evaluation);
    }

    /// <summary>
    /// The evaluations that <paramref name="evaluation"/>'s training curves mark, by step: the run's earlier ones that
    /// drew the same held-out set against the same constraint (others would put two measures on one axis), then it.
    /// </summary>
    public static IReadOnlyList<CheckpointEvaluation> HeldOutMarks(CheckpointEvaluation evaluation, IEnumerable<CheckpointEvaluation> earlierEvaluations) =>
    [
        .. earlierEvaluations.Where(e => e.Step < evaluation.Step && e.HeldOut == evaluation.HeldOut && e.Constraint == evaluation.Constraint)
            .OrderBy(e => e.Step),
        evaluation,
    ];
}
