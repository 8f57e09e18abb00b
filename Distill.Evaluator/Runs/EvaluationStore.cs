using System.Text.Json;
using System.Text.Json.Serialization;
using Distill.Core.Runs;
using Distill.Evaluator.Evaluation;

namespace Distill.Evaluator.Runs;

/// <summary>A checkpoint's evaluation as stored: either its metrics or why it could not be evaluated.</summary>
public sealed record StoredEvaluation(string RunId, int Step, CheckpointEvaluation? Evaluation, EvaluationFailure? Failure)
{
    public bool Succeeded => Evaluation is not null;
}

/// <summary>
/// Reads and writes the evaluator's part of a run directory, <c>evaluations/step-NNNNNN/</c>: <c>evaluation.json</c> or
/// <c>failure.json</c>, plus the Markdown summary and plots that <see cref="Reports.EvaluationReportWriter"/> adds.
/// </summary>
public static class EvaluationStore
{
    public const string EvaluationFileName = "evaluation.json";
    public const string FailureFileName = "failure.json";

    /// <summary>The run directory's JSON conventions, with enums as their kebab-case names ("top-k-exact") for readers other than us.</summary>
    public static readonly JsonSerializerOptions Json = new(RunDirectory.Json)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static bool HasResult(RunDirectory run, int step) =>
        File.Exists(Path.Combine(run.EvaluationPath(step), EvaluationFileName)) ||
        File.Exists(Path.Combine(run.EvaluationPath(step), FailureFileName));

    public static void WriteEvaluation(string directory, CheckpointEvaluation evaluation)
    {
        WriteAtomically(Path.Combine(directory, EvaluationFileName), evaluation);
        // A checkpoint that failed before (e.g. a torn copy, since replaced) and now succeeds has one current answer.
        File.Delete(Path.Combine(directory, FailureFileName));
    }

    public static void WriteFailure(string directory, EvaluationFailure failure) =>
        WriteAtomically(Path.Combine(directory, FailureFileName), failure);

    /// <summary>The run id the evaluator reports for a run: its manifest's, or the directory name when the manifest is unreadable.</summary>
    public static string RunIdOf(RunDirectory run)
    {
        try
        {
            return File.Exists(run.ManifestPath) ? run.ReadManifest().RunId : Path.GetFileName(run.Path);
        }
        catch (InvalidDataException)
        {
            return Path.GetFileName(run.Path);
        }
    }

    /// <summary>Every stored evaluation of a run, by step; an unreadable file is reported as that step's failure.</summary>
    public static IReadOnlyList<StoredEvaluation> ReadAll(RunDirectory run)
    {
        if (!Directory.Exists(run.EvaluationsDirectory)) return [];
        var runId = RunIdOf(run);
        return Directory.EnumerateDirectories(run.EvaluationsDirectory, "step-*")
            .Select(directory => (directory, step: ParseStep(Path.GetFileName(directory))))
            .Where(entry => entry.step is not null)
            .Select(entry => Read(runId, entry.step!.Value, entry.directory))
            .OfType<StoredEvaluation>()
            .OrderBy(stored => stored.Step)
            .ToArray();
    }

    /// <summary>Every evaluation of a run that succeeded, by step.</summary>
    public static IReadOnlyList<CheckpointEvaluation> ReadSucceeded(RunDirectory run) =>
        [.. ReadAll(run).Where(stored => stored.Succeeded).Select(stored => stored.Evaluation!)];

    public static StoredEvaluation? Read(RunDirectory run, int step) => Read(RunIdOf(run), step, run.EvaluationPath(step));

    private static StoredEvaluation? Read(string runId, int step, string directory)
    {
        var evaluationPath = Path.Combine(directory, EvaluationFileName);
        var failurePath = Path.Combine(directory, FailureFileName);
        try
        {
            if (File.Exists(evaluationPath))
                return new(runId, step, ReadJson<CheckpointEvaluation>(evaluationPath), null);
            if (File.Exists(failurePath))
                return new(runId, step, null, ReadJson<EvaluationFailure>(failurePath));
            return null;
        }
        catch (InvalidDataException error)
        {
            return new(runId, step, null, new EvaluationFailure(runId, step, directory, error.Message, File.GetLastWriteTimeUtc(directory)));
        }
    }

    private static T ReadJson<T>(string path) => RunDirectory.ReadJson<T>(path, Json);

    private static void WriteAtomically<T>(string path, T value) => RunDirectory.WriteJsonAtomically(path, value, Json);

    private static int? ParseStep(string directoryName) =>
        directoryName.StartsWith("step-", StringComparison.Ordinal) && int.TryParse(directoryName.AsSpan(5), out var step) ? step : null;
}
