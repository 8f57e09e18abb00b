using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Core.Runs;

/// <summary>What a training run is: written once at its start to <c>run.json</c>.</summary>
public sealed record RunManifest(
    string RunId,
    string Objective,
    double Threshold,
    string CostEstimator,
    string CostAggregation,
    string BudgetScope,
    int Seed,
    string StudentPath,
    string TeacherModelId,
    string Dataset,
    int TotalSteps,
    DateTimeOffset StartedAt,
    // The sampling temperature τ of the trained policy, so the evaluator samples and scores the same policy; null in
    // files written before it was recorded.
    double? Temperature = null);

/// <summary>One line of <c>metrics.jsonl</c>: what the trainer measured at one step (names as METHOD.md lists them).</summary>
public sealed record TrainingStepMetrics(
    int Step,
    double Reward,
    double Accuracy,
    double CostMean,
    double CostP90,
    double ConstraintSatisfactionRate,
    double ViolationRate,
    double? Lambda,
    double ShapedRewardMean,
    double Entropy,
    double ResponseLength,
    double GeneratedTokensPerSecond,
    double TeacherLatencyMs,
    double CacheHitRatio,
    double Loss,
    double StepSeconds,
    DateTimeOffset Time,
    // Where the step's time went (the rest is prompt preparation, rewards and shaping); 0 in files written before.
    double GenerationSeconds = 0,
    double TeacherSeconds = 0,
    double UpdateSeconds = 0,
    // The share of groups whose task rewards are all equal (there a group-normalised update sees only the penalty's
    // shape); 0 in files written before it was logged.
    double EqualRewardGroupShare = 0);

/// <summary>One line of <c>checkpoints.jsonl</c>, appended once a checkpoint directory is complete and in place.</summary>
public sealed record CheckpointAnnouncement(int Step, string Path, DateTimeOffset Time);

/// <summary>
/// The layout of a run directory, the contract between the trainer (writes) and the evaluator (reads):
/// <code>
/// run.json                         RunManifest
/// metrics.jsonl                    TrainingStepMetrics, one per line
/// checkpoints/step-000050/         model checkpoint (config.json, model.safetensors, tokenizer) + trainer state
/// checkpoints.jsonl                CheckpointAnnouncement, one per line, appended after the checkpoint is renamed into place
/// latest-checkpoint.json           the newest CheckpointAnnouncement
/// completed.json                   written when the run has finished all its steps
/// evaluations/step-000050/         evaluator output: evaluation.json, summary.md, *.png
/// </code>
/// </summary>
public sealed class RunDirectory(string path)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public string ManifestPath => Combine("run.json");
    public string MetricsPath => Combine("metrics.jsonl");
    public string CheckpointsDirectory => Combine("checkpoints");
    public string AnnouncementsPath => Combine("checkpoints.jsonl");
    public string LatestCheckpointPath => Combine("latest-checkpoint.json");
    public string CompletedPath => Combine("completed.json");
    public string EvaluationsDirectory => Combine("evaluations");

    public string CheckpointPath(int step) => System.IO.Path.Combine(CheckpointsDirectory, $"step-{step:D6}");

    public string EvaluationPath(int step) => System.IO.Path.Combine(EvaluationsDirectory, $"step-{step:D6}");

    public bool IsCompleted => File.Exists(CompletedPath);

    public RunManifest ReadManifest() => ReadJson<RunManifest>(ManifestPath);

    public CheckpointAnnouncement? ReadLatestCheckpoint() =>
        File.Exists(LatestCheckpointPath) ? ReadJson<CheckpointAnnouncement>(LatestCheckpointPath) : null;

    public IReadOnlyList<TrainingStepMetrics> ReadMetrics() => ReadJsonLines<TrainingStepMetrics>(MetricsPath);

    public IReadOnlyList<CheckpointAnnouncement> ReadAnnouncements() => ReadJsonLines<CheckpointAnnouncement>(AnnouncementsPath);

    /// <summary>Writes a JSON file atomically: a reader sees the old file or the new one, never half of one.</summary>
    public static void WriteJsonAtomically<T>(string path, T value)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(value, Json));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Appends one JSON line and flushes it to disk, so a crash loses at most the line being written.</summary>
    public static void AppendJsonLine<T>(string path, T value)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var bytes = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, Json) + "\n");
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    private static T ReadJson<T>(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json)
                   ?? throw new InvalidDataException($"{path}: empty JSON document.");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: malformed JSON ({error.Message}).", error);
        }
    }

    /// <summary>Reads a JSON-lines file; a torn last line (the writer was killed mid-line) is ignored, any other bad line is an error.</summary>
    private static IReadOnlyList<T> ReadJsonLines<T>(string path)
    {
        if (!File.Exists(path)) return [];
        var lines = File.ReadAllLines(path);
        var items = new List<T>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            try
            {
                items.Add(JsonSerializer.Deserialize<T>(lines[i], Json)!);
            }
            catch (JsonException) when (i == lines.Length - 1)
            {
                // A torn final line: the writer was killed mid-line. Everything before it is intact.
            }
            catch (JsonException error)
            {
                throw new InvalidDataException($"{path}, line {i + 1}: malformed JSON ({error.Message}).", error);
            }
        }
        return items;
    }

    private string Combine(string name) => System.IO.Path.Combine(Path, name);
}
