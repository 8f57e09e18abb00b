using Distill.StudentTrainer.Objectives;

namespace Distill.StudentTrainer.Training;

/// <summary>
/// Everything a training run is configured by, bound from the <c>Trainer</c> configuration section, to which the
/// command-line flags map (<see cref="TrainerCommandLine"/>). Validated once, at start-up; every message names its flag.
/// </summary>
public sealed class TrainerOptions
{
    public const string SectionName = "Trainer";

    // What to train.
    public string Objective { get; set; } = TrainingObjectiveFactory.Cmdp;
    public string? Student { get; set; }
    public string Dataset { get; set; } = "generated";
    public string RunDirectory { get; set; } = "runs/default";
    public string Device { get; set; } = "auto";
    public int Seed { get; set; } = 1;
    public bool Resume { get; set; } = true;

    // The schedule.
    public int Steps { get; set; } = 50;
    public int BatchSize { get; set; } = 8;
    public int GroupSize { get; set; } = 8;
    // The objective's L (its per-token penalty is −n/L) is the same number: one value, kept in the objective's settings.
    public int MaxNewTokens
    {
        get => ObjectiveOptions.MaxCompletionLength;
        set => ObjectiveOptions = ObjectiveOptions with { MaxCompletionLength = value };
    }
    public double Temperature { get; set; } = 0.7;
    public double TopP { get; set; } = 1.0;
    public double LearningRate { get; set; } = 2e-4;
    // Adam's first steps move every parameter by about the full learning rate whatever its gradient's size: a linear
    // warm-up keeps that from knocking a warm-started student off what it already knows.
    public int WarmupSteps { get; set; }
    public double WeightDecay { get; set; }
    public double MaxGradNorm { get; set; } = 1.0;
    public int InnerEpochs { get; set; } = 1;
    public int CheckpointEvery { get; set; } = 10;

    /// <summary>
    /// The objective's settings (see docs/method.md), bound from this same section: <c>Trainer:Threshold</c>, not
    /// <c>Trainer:ObjectiveOptions:Threshold</c> (see <see cref="Bind"/>), so every flag is one flat key.
    /// </summary>
    public ObjectiveOptions ObjectiveOptions { get; set; } = new();

    /// <summary>Binds the trainer's section into these options and their <see cref="ObjectiveOptions"/>, the one way both are read.</summary>
    public void Bind(IConfiguration section)
    {
        section.Bind(this);
        var objective = new ObjectiveOptions();
        section.Bind(objective);
        ObjectiveOptions = objective;
    }

    /// <summary>Every problem with these options, each naming its flag; empty when the run can start.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Require(bool condition, string flag, string rule, object? value)
        {
            if (!condition) problems.Add($"{flag} must be {rule} (got {value ?? "nothing"}).");
        }

        Require(TrainingObjectiveFactory.Names.Contains(Objective.ToLowerInvariant()), "--objective",
            $"one of {string.Join("|", TrainingObjectiveFactory.Names)}", Objective);
        Require(!string.IsNullOrWhiteSpace(Student), "--student", "a checkpoint directory", Student);
        Require(Student is null || Directory.Exists(Student), "--student", "an existing checkpoint directory", Student);
        Require(Dataset == "generated" || File.Exists(Dataset), "--dataset", "'generated' or an existing GSM8K/MATH JSONL file", Dataset);
        Require(!string.IsNullOrWhiteSpace(RunDirectory), "--run-dir", "a directory path", RunDirectory);
        Require(Steps >= 1, "--steps", "at least 1", Steps);
        Require(BatchSize >= 1, "--batch-size", "at least 1", BatchSize);
        Require(GroupSize >= 2 || Objective == TrainingObjectiveFactory.Sft, "--group-size", "at least 2 (advantages are relative to the group)", GroupSize);
        Require(double.IsFinite(Temperature) && Temperature > 0, "--temperature", "a finite number > 0", Temperature);
        Require(TopP > 0 && TopP <= 1, "--top-p", "within (0, 1]", TopP);
        Require(double.IsFinite(LearningRate) && LearningRate > 0, "--lr", "a finite number > 0", LearningRate);
        Require(WarmupSteps >= 0, "--warmup-steps", "at least 0", WarmupSteps);
        Require(double.IsFinite(WeightDecay) && WeightDecay >= 0, "--weight-decay", "a finite number >= 0", WeightDecay);
        Require(double.IsFinite(MaxGradNorm) && MaxGradNorm > 0, "--max-grad-norm", "a finite number > 0", MaxGradNorm);
        Require(InnerEpochs >= 1, "--inner-epochs", "at least 1", InnerEpochs);
        Require(CheckpointEvery >= 1, "--checkpoint-every", "at least 1", CheckpointEvery);
        problems.AddRange(ObjectiveOptions.Validate());
        return problems;
    }

    /// <summary>The learning rate of step <paramref name="step"/> (1-based): linear warm-up over <see cref="WarmupSteps"/>, then constant.</summary>
    public double LearningRateAt(int step) => WarmupSteps == 0 ? LearningRate : LearningRate * Math.Min(1.0, step / (double)WarmupSteps);
}
