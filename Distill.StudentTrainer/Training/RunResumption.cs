using System.Globalization;
using Distill.Core.Runs;

namespace Distill.StudentTrainer.Training;

/// <summary>
/// Decides where a run starts: from its last checkpoint (after checking that the run was started with these same
/// settings and repairing what a crash or a second writer left behind), or from the student. Everything it changes in
/// the run directory it logs.
/// </summary>
public sealed class RunResumption(RunDirectory run, TrainerOptions options, TrainingCheckpoints checkpoints, ILogger logger)
{
    /// <summary>
    /// The checkpoint to continue from, or null to start from the student. After it returns, <c>metrics.jsonl</c> and
    /// <c>checkpoints.jsonl</c> hold nothing after that checkpoint's step, and <c>run.json</c> describes this run.
    /// </summary>
    /// <exception cref="TrainingStartupException">The settings differ from the run's, or its metrics cannot be repaired.</exception>
    public CheckpointAnnouncement? Prepare(string objectiveName)
    {
        var manifest = File.Exists(run.ManifestPath) ? run.ReadManifest() : null;
        if (manifest is not null && options.Resume && Differences(manifest, options, objectiveName) is { Count: > 0 } differences)
            throw new TrainingStartupException(
                $"--resume: {run.ManifestPath} was started with other settings: {string.Join("; ", differences)}. " +
                "Only --steps may grow on resume; train these settings in another --run-dir.");

        var latest = options.Resume ? checkpoints.Latest() : null;
        if (latest is null)
        {
            if (manifest is not null && (run.ReadAnnouncements().Count > 0 || checkpoints.Complete().Count > 0))
                throw new TrainingStartupException(options.Resume
                    ? $"--resume: {run.AnnouncementsPath} announces checkpoints, but none of their directories under " +
                      $"{run.CheckpointsDirectory} is complete; choose another --run-dir (nothing is overwritten)."
                    : $"--run-dir {run.Path} already holds a run with checkpoints; resume it with --resume, or choose another " +
                      "--run-dir (nothing is overwritten).");
            // Starting from the student: whatever an attempt that died before its first checkpoint wrote is redone.
            Repair(0);
            return null;
        }

        var repair = run.RepairMetrics(latest.Step);
        if (repair.Changed)
            logger.LogWarning("Repaired {Metrics} for a continuation after step {Step}: {Repair}.", run.MetricsPath, latest.Step, repair);
        if (repair.MissingSteps.Count > 0)
        {
            // The checkpoint is ahead of the metrics (a lost or torn line of a step it covers): train again from the
            // newest checkpoint before the first missing step, which gives the same steps again (the step decides
            // the batch and the sampling seed).
            int firstMissing = repair.MissingSteps.Min();
            var earlier = checkpoints.Complete().LastOrDefault(c => c.Step < firstMissing)
                ?? throw new TrainingStartupException(
                    $"{run.MetricsPath} lacks steps {MetricsRepair.Ranges(repair.MissingSteps)}, which the checkpoint of step " +
                    $"{latest.Step} covers, and no earlier checkpoint is left to train them again from. Start the run again " +
                    "in another --run-dir.");
            logger.LogWarning("{Metrics} lacks steps {Missing}: training again from the checkpoint of step {Step} ({Path}) to write them.",
                run.MetricsPath, MetricsRepair.Ranges(repair.MissingSteps), earlier.Step, earlier.Path);
            latest = earlier;
        }
        Repair(latest.Step);

        if (manifest is not null && options.Steps != manifest.TotalSteps)
        {
            logger.LogInformation("--steps grows from {Old} to {New}; {Manifest} updated.", manifest.TotalSteps, options.Steps, run.ManifestPath);
            RunDirectory.WriteJsonAtomically(run.ManifestPath, manifest with { TotalSteps = options.Steps });
            // The run is no longer finished: the evaluator must not take the old last checkpoint as the final one.
            File.Delete(run.CompletedPath);
        }
        return latest;
    }

    /// <summary>Flags whose value differs from the run's <c>run.json</c>, each with both values; empty when the run may resume.</summary>
    public static IReadOnlyList<string> Differences(RunManifest manifest, TrainerOptions options, string objectiveName)
    {
        var differences = new List<string>();
        void Compare(string flag, string recorded, string given)
        {
            if (recorded != given) differences.Add($"{flag} {given} (the run has {recorded})");
        }

        Compare("--objective", manifest.Objective, objectiveName);
        var objective = options.ObjectiveOptions;
        Compare("--threshold", Format(manifest.Threshold), objective.HasThreshold ? Format(objective.Threshold) : "nothing");
        Compare("--cost-estimator", Spelling(manifest.CostEstimator), Spelling(objective.Estimator));
        Compare("--cost-aggregation", Spelling(manifest.CostAggregation), Spelling(objective.Aggregation));
        Compare("--budget-scope", Spelling(manifest.BudgetScope), Spelling(objective.Scope));
        Compare("--seed", Format(manifest.Seed), Format(options.Seed));
        Compare("--student", manifest.StudentPath, Path.GetFullPath(options.Student!));
        if (!SameDataset(manifest.Dataset, options.Dataset)) Compare("--dataset", manifest.Dataset, options.Dataset);
        // τ defines the policy that is trained and constrained (run.json files of earlier versions do not record it).
        if (manifest.Temperature is { } temperature)
            Compare("--temperature", Format(temperature), Format(options.Temperature));
        if (options.Steps < manifest.TotalSteps)
            differences.Add($"--steps {options.Steps} (the run has {manifest.TotalSteps}; the schedule may only grow)");
        return differences;
    }

    private void Repair(int lastKeptStep)
    {
        var metrics = run.RepairMetrics(lastKeptStep);
        if (metrics.Changed)
            logger.LogWarning("Repaired {Metrics} for a continuation after step {Step}: {Repair}.", run.MetricsPath, lastKeptStep, metrics);
        if (run.RepairAnnouncements(lastKeptStep) is > 0 and var removed)
            logger.LogWarning("Removed {Count} announcements of checkpoints after step {Step} from {Announcements}; they are written again.",
                removed, lastKeptStep, run.AnnouncementsPath);
    }

    private static bool SameDataset(string recorded, string given) =>
        recorded == given || (recorded != "generated" && given != "generated" && Path.GetFullPath(recorded) == Path.GetFullPath(given));

    private static string Spelling<TEnum>(TEnum value) where TEnum : struct, Enum => Core.Configuration.KebabCaseEnum.Spelling(value);

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}
