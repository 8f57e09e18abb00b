using System.Text.Json;
using System.Text.Json.Serialization;
using Distill.Core.Configuration;
using Distill.Core.Divergence;
using Distill.Core.Safetensors;

namespace Distill.Core.Runs;

/// <summary>
/// What a training run is: written once at its start to <c>run.json</c>. The settings are typed and written in
/// kebab-case; files of earlier versions, which hold the C# names ("TopKExact"), still read.
/// </summary>
public sealed record RunManifest(
    string RunId,
    string Objective,
    double Threshold,
    [property: JsonConverter(typeof(KebabCaseEnumJsonConverter<CostEstimator>))] CostEstimator CostEstimator,
    [property: JsonConverter(typeof(KebabCaseEnumJsonConverter<CostAggregation>))] CostAggregation CostAggregation,
    [property: JsonConverter(typeof(KebabCaseEnumJsonConverter<BudgetScope>))] BudgetScope BudgetScope,
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
    double EqualRewardGroupShare = 0,
    // Of the violating samples, the share whose whole group violated (a penalty equal for every violation cancels in
    // the group mean there); and the share of groups whose samples split across d. Null in files written before.
    double? WholeGroupViolationShare = null,
    double? SplitViolationGroupShare = null,
    // The L2 norm of the step's gradient before clipping (the first epoch's, when a step takes several); above
    // --max-grad-norm the update was shortened to that length. Null in files written before it was logged.
    double? GradientNorm = null);

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
/// run.lock, run.lock.json          the trainer's exclusive lock on the directory and who holds it (RunLock)
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
    public static void WriteJsonAtomically<T>(string path, T value, JsonSerializerOptions? options = null) =>
        Safetensors.AtomicWrite.WriteFile(path, JsonSerializer.SerializeToUtf8Bytes(value, options ?? Json));

    /// <summary>Appends one JSON line and flushes it to disk, so a crash loses at most the line being written.</summary>
    public static void AppendJsonLine<T>(string path, T value)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var bytes = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, Json) + "\n");
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// The directory a checkpoint pointer names, which must lie inside this run directory: a pointer is written by the
    /// trainer as a relative path, and one that is absolute or climbs out with <c>..</c> would load another run's (or
    /// another model's) weights as this run's student.
    /// </summary>
    /// <exception cref="InvalidDataException">The pointer escapes the run directory; the message names <paramref name="pointerFile"/>.</exception>
    public string ResolveCheckpointPointer(string pointerFile, CheckpointAnnouncement pointer)
    {
        if (string.IsNullOrWhiteSpace(pointer.Path) || System.IO.Path.IsPathRooted(pointer.Path))
            throw new InvalidDataException($"{pointerFile}: checkpoint path '{pointer.Path}' must be relative to the run directory {Path}.");
        var resolved = System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, pointer.Path));
        var inside = Path.EndsWith(System.IO.Path.DirectorySeparatorChar) ? Path : Path + System.IO.Path.DirectorySeparatorChar;
        if (!resolved.StartsWith(inside, StringComparison.Ordinal))
            throw new InvalidDataException($"{pointerFile}: checkpoint path '{pointer.Path}' leads out of the run directory {Path}.");
        return resolved;
    }

    /// <summary>
    /// Makes <c>metrics.jsonl</c> hold each step from 1 to <paramref name="lastKeptStep"/> at most once and nothing
    /// after it, before a run continues from the checkpoint of that step: a torn last line (a writer killed mid-line),
    /// the steps after the checkpoint (they are trained again and written again) and repeats of a step (two writers) go.
    /// The file is rewritten atomically, and only when something changes.
    /// </summary>
    public MetricsRepair RepairMetrics(int lastKeptStep)
    {
        if (!File.Exists(MetricsPath)) return new MetricsRepair(false, [], [], Enumerable.Range(1, lastKeptStep).ToArray());
        var lines = File.ReadAllLines(MetricsPath);
        var kept = new SortedDictionary<int, string>();
        var dropped = new List<int>();
        var repeated = new List<int>();
        bool tornTail = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            TrainingStepMetrics? metrics;
            try
            {
                metrics = JsonSerializer.Deserialize<TrainingStepMetrics>(lines[i], Json);
            }
            catch (JsonException) when (i == lines.Length - 1)
            {
                tornTail = true;
                continue;
            }
            catch (JsonException error)
            {
                throw new InvalidDataException($"{MetricsPath}, line {i + 1}: malformed JSON ({error.Message}).", error);
            }
            if (metrics is null) continue;
            if (metrics.Step > lastKeptStep) dropped.Add(metrics.Step);
            else if (!kept.TryAdd(metrics.Step, lines[i])) repeated.Add(metrics.Step);
        }
        var missing = Enumerable.Range(1, lastKeptStep).Where(step => !kept.ContainsKey(step)).ToArray();
        var repair = new MetricsRepair(tornTail, dropped, repeated, missing);
        // A last line without its newline would have the next step's line glued to it.
        if (repair.Changed || EndsMidLine(MetricsPath))
            AtomicWrite.WriteFile(MetricsPath, System.Text.Encoding.UTF8.GetBytes(string.Concat(kept.Values.Select(line => line + "\n"))));
        return repair;
    }

    /// <summary>Problems with a finished run's <c>metrics.jsonl</c>: each step 1..<paramref name="steps"/> must be there exactly once, in order.</summary>
    public IReadOnlyList<string> VerifyMetrics(int steps)
    {
        var recorded = ReadMetrics().Select(m => m.Step).ToArray();
        var problems = new List<string>();
        var missing = Enumerable.Range(1, steps).Except(recorded).ToArray();
        var repeated = recorded.GroupBy(step => step).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        var extra = recorded.Where(step => step < 1 || step > steps).Distinct().ToArray();
        if (missing.Length > 0) problems.Add($"steps {MetricsRepair.Ranges(missing)} missing");
        if (repeated.Length > 0) problems.Add($"steps {MetricsRepair.Ranges(repeated)} repeated");
        if (extra.Length > 0) problems.Add($"steps {MetricsRepair.Ranges(extra)} outside 1..{steps}");
        if (problems.Count == 0 && !recorded.SequenceEqual(Enumerable.Range(1, steps))) problems.Add("steps out of order");
        return problems;
    }

    /// <summary>Drops announcements of steps after <paramref name="lastKeptStep"/> and repeats of a step, rewriting the file atomically when any.</summary>
    public int RepairAnnouncements(int lastKeptStep)
    {
        var announcements = ReadAnnouncements();
        var kept = announcements.Where(a => a.Step <= lastKeptStep).GroupBy(a => a.Step).Select(g => g.Last()).OrderBy(a => a.Step).ToArray();
        int removed = announcements.Count - kept.Length;
        if (removed > 0 || EndsMidLine(AnnouncementsPath))
            AtomicWrite.WriteFile(AnnouncementsPath, System.Text.Encoding.UTF8.GetBytes(
                string.Concat(kept.Select(a => JsonSerializer.Serialize(a, Json) + "\n"))));
        return removed;
    }

    private static bool EndsMidLine(string path)
    {
        if (!File.Exists(path)) return false;
        using var file = File.OpenRead(path);
        if (file.Length == 0) return false;
        file.Seek(-1, SeekOrigin.End);
        return file.ReadByte() != '\n';
    }

    /// <summary>Reads a JSON file; a malformed or empty one is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static T ReadJson<T>(string path, JsonSerializerOptions? options = null)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), options ?? Json)
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

/// <summary>What <see cref="RunDirectory.RepairMetrics"/> found: removed lines, and the steps still missing up to the kept step.</summary>
public sealed record MetricsRepair(bool TornTail, IReadOnlyList<int> DroppedSteps, IReadOnlyList<int> RepeatedSteps, IReadOnlyList<int> MissingSteps)
{
    public bool Changed => TornTail || DroppedSteps.Count > 0 || RepeatedSteps.Count > 0;

    public override string ToString()
    {
        var parts = new List<string>();
        if (TornTail) parts.Add("dropped a torn last line");
        if (DroppedSteps.Count > 0) parts.Add($"dropped steps {Ranges(DroppedSteps)} (after the checkpoint; they are trained again)");
        if (RepeatedSteps.Count > 0) parts.Add($"dropped repeats of steps {Ranges(RepeatedSteps)}");
        if (MissingSteps.Count > 0) parts.Add($"steps {Ranges(MissingSteps)} are missing");
        return parts.Count == 0 ? "intact" : string.Join("; ", parts);
    }

    /// <summary><c>1-3, 7, 9-10</c>.</summary>
    public static string Ranges(IEnumerable<int> steps)
    {
        var sorted = steps.Distinct().Order().ToArray();
        var ranges = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            ranges.Add(i == j ? $"{sorted[i]}" : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(", ", ranges);
    }
}
