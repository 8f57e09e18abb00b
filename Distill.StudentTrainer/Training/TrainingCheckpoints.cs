using System.Text.Json;
using Distill.Core.Modeling;
using Distill.Core.Runs;
using Distill.Core.Tokenization;
using Distill.StudentTrainer.Objectives;
using TorchSharp;
using TorchSharp.Modules;

namespace Distill.StudentTrainer.Training;

/// <summary>What besides the weights a run needs to continue exactly where it stopped.</summary>
public sealed record TrainerState(int Step, ObjectiveState Objective, long DataPosition, int Seed);

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

    /// <summary>The newest announced checkpoint, or null when the run has none.</summary>
    public CheckpointAnnouncement? Latest() => run.ReadLatestCheckpoint();

    public string PathOf(CheckpointAnnouncement announcement) => Path.GetFullPath(Path.Combine(run.Path, announcement.Path));

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
