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
    /// known (a checkpoint evaluated outside its run has none). The JSON goes last: its presence says "done".
    /// </summary>
    public static void Write(string directory, CheckpointEvaluation evaluation, IReadOnlyList<TrainingStepMetrics> trainingMetrics)
    {
        Directory.CreateDirectory(directory);
        Core.Safetensors.AtomicWrite.WriteText(Path.Combine(directory, SummaryFileName), MarkdownSummary.Render(evaluation));
        EvaluationPlots.SaveCostDistribution(Path.Combine(directory, CostDistributionFileName), evaluation.SequenceCosts,
            evaluation.Constraint.Threshold, Format.Invariant($"{evaluation.RunId}, step {evaluation.Step}: sequence KL of {evaluation.SequenceCosts.Count} samples"));
        var curves = trainingMetrics.Where(m => m.Step <= evaluation.Step).ToArray();
        if (curves.Length > 0)
            EvaluationPlots.SaveTrainingCurves(Path.Combine(directory, TrainingCurvesFileName), curves, evaluation.Constraint.Threshold);
        EvaluationStore.WriteEvaluation(directory, evaluation);
    }
}
