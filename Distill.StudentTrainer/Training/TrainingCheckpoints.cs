using System.Text.Json;
using Distill.Core.Modeling;
using Distill.Core.Runs;
using Distill.Core.Tokenization;
using Distill.StudentTrainer.Objectives;
using TorchSharp;
using TorchSharp.Modules;

namespace Distill.StudentTrainer.Training;

/// <summary>What besides the weights a run needs to continue exactly where it stopped.</summary>
public sealed record TrainerState(int Step, ObjectiveState Objective, int Seed);

/// <summary>
/// Checkpoints of a run: the student's weights (a normal checkpoint directory any service can load), the optimizer
/// state and <see cref="TrainerState"/>, all written into one temporary directory that is renamed into place, then
/// announced in <c>checkpoints.jsonl</c> and <c>latest-checkpoint.json</c>. A crash leaves the previous checkpoint.
/// </summary>
public sealed class TrainingCheckpoints(RunDirectory run, ILogger logger)
{
    public const string StateFileName = "trainer_state.json";
    public const string OptimizerFileName = "optimizer.bin";

    public void Save(int step, LlamaForCausalLM model, ISavableTokenizer tokenizer, OptimizerHelper optimizer, TrainerState state)
    {
        var files = new Dictionary<string, byte[]>(tokenizer.ToFiles())
        {
            [StateFileName] = JsonSerializer.SerializeToUtf8Bytes(state, RunDirectory.Json),
            [OptimizerFileName] = OptimizerBytes(optimizer),
        };
        var path = run.CheckpointPath(step);
        ModelCheckpoint.Save(path, model, model.Config, files);

        var announcement = new CheckpointAnnouncement(step, Path.GetRelativePath(run.Path, path), DateTimeOffset.UtcNow);
        RunDirectory.AppendJsonLine(run.AnnouncementsPath, announcement);
        RunDirectory.WriteJsonAtomically(run.LatestCheckpointPath, announcement);
        logger.LogInformation("Checkpoint of step {Step} written to {Path}.", step, path);
    }

    /// <summary>
    /// The checkpoint to resume from, or null when the run has none: <c>latest-checkpoint.json</c>; without it (deleted,
    /// or never renamed into place) the last announcement in <c>checkpoints.jsonl</c> whose directory is complete;
    /// without that, the newest complete checkpoint directory. Every pointer must lead inside the run directory.
    /// </summary>
    public CheckpointAnnouncement? Latest()
    {
        if (run.ReadLatestCheckpoint() is { } latest)
        {
            run.ResolveCheckpointPointer(run.LatestCheckpointPath, latest);
            return latest;
        }
        var announced = run.ReadAnnouncements().Reverse()
            .FirstOrDefault(a => IsComplete(run.ResolveCheckpointPointer(run.AnnouncementsPath, a)));
        if (announced is not null)
        {
            logger.LogWarning("{Pointer} is missing; resuming from the last complete checkpoint {Path} that {Announcements} lists.",
                run.LatestCheckpointPath, announced.Path, run.AnnouncementsPath);
            return announced;
        }
        if (Complete().LastOrDefault() is { } newest)
        {
            logger.LogWarning("{Pointer} and {Announcements} name no checkpoint; resuming from the newest complete checkpoint directory {Path}.",
                run.LatestCheckpointPath, run.AnnouncementsPath, newest.Path);
            return newest;
        }
        return null;
    }

    /// <summary>Every complete checkpoint directory of the run, oldest first, whether announced or not.</summary>
    public IReadOnlyList<CheckpointAnnouncement> Complete()
    {
        if (!Directory.Exists(run.CheckpointsDirectory)) return [];
        return Directory.EnumerateDirectories(run.CheckpointsDirectory, "step-*")
            .Select(directory => (directory, step: int.TryParse(Path.GetFileName(directory)["step-".Length..], out var step) ? step : -1))
            .Where(c => c.step > 0 && IsComplete(c.directory))
            .OrderBy(c => c.step)
            .Select(c => new CheckpointAnnouncement(c.step, Path.GetRelativePath(run.Path, c.directory), Directory.GetLastWriteTimeUtc(c.directory)))
            .ToArray();
    }

    /// <summary>
    /// What a resume needs: the weights, the optimizer and the trainer state. A directory is renamed into place only
    /// once it is full, so a partial one is a leftover of another tool, never of a save.
    /// </summary>
    private static bool IsComplete(string directory) =>
        File.Exists(Path.Combine(directory, StateFileName)) && File.Exists(Path.Combine(directory, OptimizerFileName)) &&
        File.Exists(Path.Combine(directory, ModelCheckpoint.ConfigFileName)) &&
        (File.Exists(Path.Combine(directory, ModelCheckpoint.WeightsFileName)) || File.Exists(Path.Combine(directory, ModelCheckpoint.IndexFileName)));

    /// <summary>The checkpoint's directory, which must lie inside the run directory.</summary>
    public string PathOf(CheckpointAnnouncement announcement) => run.ResolveCheckpointPointer(run.LatestCheckpointPath, announcement);

    public static TrainerState ReadState(string checkpointPath)
    {
        var file = Path.Combine(checkpointPath, StateFileName);
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllBytes(file), RunDirectory.Json)
                   ?? throw new InvalidDataException($"{file}: empty.");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{file}: malformed trainer state ({error.Message}).", error);
        }
    }

    public static void RestoreOptimizer(string checkpointPath, OptimizerHelper optimizer)
    {
        var file = Path.Combine(checkpointPath, OptimizerFileName);
        using var reader = new BinaryReader(File.OpenRead(file));
        optimizer.load_state_dict(reader);
    }

    private static byte[] OptimizerBytes(OptimizerHelper optimizer)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
            optimizer.save_state_dict(writer);
        return memory.ToArray();
    }
}
