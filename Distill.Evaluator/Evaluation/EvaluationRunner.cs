using Distill.Core.Divergence;
using Distill.Core.Progress;
using Distill.Core.Runs;
using Distill.Evaluator.Reports;
using Distill.Evaluator.Runs;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator.Evaluation;

/// <summary>
/// Evaluates checkpoints and stores what came of each: reports on success, <c>failure.json</c> and a logged error
/// otherwise. One bad checkpoint never stops the others.
/// </summary>
public sealed class EvaluationRunner(CheckpointEvaluator evaluator, IOptions<EvaluatorOptions> options, EvaluatorTelemetry telemetry,
    ILogger<EvaluationRunner> logger)
{
    private readonly EvaluatorOptions settings = options.Value;

    // One evaluation at a time: the watch loop and "evaluate latest" share the model memory and the cores.
    private readonly SemaphoreSlim evaluating = new(1, 1);


    /// <summary>
    /// Watches a run and evaluates each checkpoint as it is announced; returns once the run is complete and every
    /// announced checkpoint has a result: 0 when the final checkpoint was evaluated, 1 when it could not be.
    /// </summary>
    public async Task<int> WatchAsync(RunDirectory run, CancellationToken cancellationToken)
    {
        logger.LogInformation("Watching {Run} for checkpoints", run.Path);
        await foreach (var announcement in RunWatcher.WatchAsync(run, settings.PollInterval, cancellationToken))
        {
            // run.json exists once a checkpoint is announced: it names the starting student.
            if (settings.EvaluateStart && !EvaluationStore.HasResult(run, 0))
                await EvaluateInRunAsync(run, 0, run.ReadManifest().StudentPath, cancellationToken);
            if (!EvaluationStore.HasResult(run, announcement.Step))
                await EvaluateInRunAsync(run, announcement.Step, announcement.Path, cancellationToken);
        }

        var final = run.ReadAnnouncements().LastOrDefault();
        if (final is null)
        {
            logger.LogWarning("{Run} completed without announcing a checkpoint", run.Path);
            return 0;
        }
        var succeeded = EvaluationStore.Read(run, final.Step)?.Succeeded == true;
        logger.LogInformation("{Run} is complete; final checkpoint (step {Step}) {Outcome}", run.Path, final.Step, succeeded ? "evaluated" : "failed");
        if (succeeded) logger.LogInformation("{Summary}", RunSummary(run, final.Step));
        return succeeded ? 0 : 1;
    }

    /// <summary>
    /// One line: accuracy, mean KL and CSR at d (with its 95 % bootstrap interval over problems) from the starting
    /// student (step 0, when evaluated) to the final checkpoint, the CSR's change with its interval paired by problem
    /// (so a reader can tell a change from the noise of a small held-out set), and where the final report is.
    /// </summary>
    public static string RunSummary(RunDirectory run, int finalStep)
    {
        var after = EvaluationStore.Read(run, finalStep)!.Evaluation!;
        var before = finalStep == 0 ? null : EvaluationStore.Read(run, 0)?.Evaluation;
        string Change(Func<CheckpointEvaluation, string> value) => before is null ? value(after) : $"{value(before)} → {value(after)}";
        // The same interval notation as the evaluation's summary.md, so the console and the report read alike.
        static string Satisfaction(CheckpointEvaluation e) =>
            $"{Format.Percent(e.Metrics.SatisfactionRate)} ({Format.Percent(e.Metrics.SatisfactionRateLow)} – {Format.Percent(e.Metrics.SatisfactionRateHigh)})";
        var paired = before is not null && ArePaired(before, after)
            ? MetricsAggregation.SatisfactionChangeOf(before.SequenceCosts, after.SequenceCosts, after.HeldOut.SamplesPerProblem, after.Constraint.Threshold)
            : (SatisfactionChange?)null;
        var change = paired is { } c
            ? $", change {Format.Signed(100 * c.Change, 1)} points ({Format.Signed(100 * c.Low, 1, plus: false)} to {Format.Signed(100 * c.High, 1, plus: false)})"
            : "";
        var report = Path.Combine(run.EvaluationPath(finalStep), EvaluationReportWriter.SummaryFileName);
        return Format.Invariant($"{Distill.ServiceDefaults.ServiceConsoleSignals.RunComplete} {(before is null ? $"step {finalStep}" : $"step 0 → {finalStep}")}: ") +
               $"accuracy {Change(e => Format.Percent(e.Metrics.GreedyAccuracy))}, " +
               $"mean KL {Change(e => Format.Invariant($"{e.Metrics.CostMean:0.00}"))}, " +
               Format.Invariant($"CSR at d = {after.Constraint.Threshold} ") + $"{Change(Satisfaction)}{change} " +
               $"({CostEstimators.Spelling(after.Constraint.Estimator)} KL; 95 % bootstrap intervals over problems" +
               $"{(paired is null ? "" : ", the change's paired by problem")}). Report: {report}";
    }

    // The CSR's change is paired by problem only when both evaluations drew the same samples' worth of the same problems
    // against the same constraint, and only in sequence scope, where a sample is within budget exactly when C ≤ d.
    private static bool ArePaired(CheckpointEvaluation before, CheckpointEvaluation after) =>
        before.HeldOut == after.HeldOut && before.Constraint == after.Constraint && after.Constraint.Scope == BudgetScope.Sequence &&
        after.HeldOut.SamplesPerProblem >= 1 && after.SequenceCosts.Count > 0 && before.SequenceCosts.Count == after.SequenceCosts.Count &&
        after.SequenceCosts.Count == after.HeldOut.Problems * after.HeldOut.SamplesPerProblem;

    /// <summary>
    /// The run's newest announced checkpoint, evaluated now unless it already has a result (the dashboard's "Evaluate
    /// latest checkpoint"); null when the run has announced none.
    /// </summary>
    public async Task<StoredEvaluation?> EvaluateLatestAsync(RunDirectory run, CancellationToken cancellationToken)
    {
        if (run.ReadAnnouncements().LastOrDefault() is not { } latest) return null;
        return EvaluationStore.Read(run, latest.Step)
            ?? await EvaluateInRunAsync(run, latest.Step, RunWatcher.ResolveCheckpointPath(run, latest), cancellationToken);
    }

    /// <summary>Evaluates the given checkpoint directories one by one; 0 when all were evaluated, 1 when any failed.</summary>
    public async Task<int> EvaluateCheckpointsAsync(IEnumerable<string> checkpointDirectories, CancellationToken cancellationToken,
        IProgressSteps? progress = null)
    {
        var failures = 0;
        foreach (var directory in checkpointDirectories.Select(Path.GetFullPath))
        {
            var stored = await EvaluateCheckpointAsync(directory, cancellationToken);
            if (!stored.Succeeded) failures++;
            progress?.Advance(status: $"{stored.RunId} step {stored.Step} {(stored.Succeeded ? "evaluated" : "failed")}");
        }
        return failures == 0 ? 0 : 1;
    }

    private Task<StoredEvaluation> EvaluateCheckpointAsync(string checkpoint, CancellationToken cancellationToken)
    {
        // A trainer checkpoint lives at <run>/checkpoints/step-NNNNNN: its reports then go into the run directory.
        var candidateRun = Path.GetDirectoryName(Path.GetDirectoryName(checkpoint));
        if (candidateRun is not null && File.Exists(Path.Combine(candidateRun, "run.json")) && StepOf(checkpoint) is { } step)
            return EvaluateInRunAsync(new RunDirectory(candidateRun), step, checkpoint, cancellationToken);

        var name = Path.GetFileName(checkpoint);
        var output = Path.Combine(settings.OutputDirectory ?? Path.Combine(Directory.GetCurrentDirectory(), "evaluations"), name);
        return EvaluateAndStoreAsync(name, StepOf(checkpoint) ?? 0, checkpoint, output, run: null, cancellationToken);
    }

    private async Task<StoredEvaluation> EvaluateInRunAsync(RunDirectory run, int step, string checkpoint, CancellationToken cancellationToken)
    {
        await evaluating.WaitAsync(cancellationToken);
        try
        {
            return await EvaluateAndStoreAsync(EvaluationStore.RunIdOf(run), step, checkpoint, run.EvaluationPath(step), run, cancellationToken);
        }
        finally
        {
            evaluating.Release();
        }
    }

    private async Task<StoredEvaluation> EvaluateAndStoreAsync(
        string runId, int step, string checkpoint, string output, RunDirectory? run, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = run?.ReadManifest();
            var target = new EvaluationTarget(runId, step, checkpoint, ConstraintOf(run), settings.Temperature ?? manifest?.Temperature ?? 1.0,
                settings.Estimator, settings.TopK);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var evaluation = await evaluator.EvaluateAsync(target, cancellationToken);
            telemetry.Record(evaluation, clock.Elapsed.TotalSeconds);
            EvaluationReportWriter.Write(output, evaluation, run?.ReadMetrics() ?? [], run is null ? [] : EvaluationStore.ReadSucceeded(run));
            logger.LogInformation(
                "{Run} step {Step}: accuracy {Accuracy:0.0} %, pass@1 {PassAt1:0.0} %, CSR {Csr:0.0} % at d = {Threshold}, mean KL {Kl:0.###}; reports in {Output}",
                runId, step, evaluation.Metrics.GreedyAccuracy * 100, evaluation.Metrics.SampledPassAt1 * 100, evaluation.Metrics.SatisfactionRate * 100,
                target.Constraint.Threshold, evaluation.Metrics.CostMean, output);
            return new StoredEvaluation(runId, step, evaluation, null);
        }
        // Anything one checkpoint throws (missing or torn files, a tensor shape that does not match its config, the
        // teacher rejecting its tokens) is that checkpoint's failure; cancellation is the only thing that stops the rest.
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogError("{Run} step {Step}: checkpoint {Checkpoint} could not be evaluated: {Error}", runId, step, checkpoint, error.Message);
            var failure = new EvaluationFailure(runId, step, checkpoint, error.Message, DateTimeOffset.UtcNow);
            EvaluationStore.WriteFailure(output, failure);
            return new StoredEvaluation(runId, step, null, failure);
        }
    }

    /// <summary>The run's constraint from its manifest, each part overridable by a flag; without a run, <c>--threshold</c> is required.</summary>
    private ConstraintSettings ConstraintOf(RunDirectory? run)
    {
        var manifest = run?.ReadManifest();
        var threshold = settings.Threshold ?? manifest?.Threshold
                        ?? throw new InvalidDataException("no threshold: pass --threshold for a checkpoint outside a run directory.");
        // The estimator is chosen per evaluation (the lowest-variance one the teacher allows); K1 stands in until then.
        return new ConstraintSettings(
            manifest?.Objective ?? "unknown",
            threshold,
            settings.Estimator ?? CostEstimator.K1,
            settings.Aggregation ?? manifest?.CostAggregation ?? CostAggregation.Sum,
            manifest?.BudgetScope ?? BudgetScope.Sequence);
    }

    private static int? StepOf(string checkpoint) =>
        Path.GetFileName(checkpoint) is { } name && name.StartsWith("step-", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), out var step)
            ? step
            : null;
}
