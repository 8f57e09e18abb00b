using Distill.Core.Divergence;
using Distill.ServiceDefaults;
using Distill.StudentTrainer.Objectives;

namespace Distill.StudentTrainer.Training;

/// <summary>
/// Everything a training run is configured by, bound from the <c>Trainer</c> configuration section, to which the
/// command-line flags map (<see cref="CommandLineFlags"/>). Validated at start-up; every message names its flag.
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
    public int MaxNewTokens { get; set; } = 48;
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

    // The objective (see docs/method.md); spelled as on the command line.
    public double? Threshold { get; set; }
    public double Penalty { get; set; } = 1.0;
    public double Kappa { get; set; } = 0.1;
    public double FormatBonus { get; set; }
    public string CmdpForm { get; set; } = "trajectory";
    public double ViolationTarget { get; set; } = 0.05;
    public string ChanceCost { get; set; } = "indicator";
    public double KlCoefficient { get; set; } = 0.1;
    public double LambdaInit { get; set; }
    public double LambdaLearningRate { get; set; } = 0.01;
    public double LambdaMax { get; set; } = 10.0;
    public string LambdaUpdate { get; set; } = "dual-ascent";
    public double PidKp { get; set; } = 0.1;
    public double PidKi { get; set; } = 0.01;
    public double PidKd { get; set; }
    public string CostEstimator { get; set; } = "k1";
    public int TopK { get; set; } = 20;
    public string CostAggregation { get; set; } = "sum";
    public string BudgetScope { get; set; } = "sequence";
    public string Advantage { get; set; } = "group-mean";
    public bool DistillPerToken { get; set; }
    public double? ClipEpsilon { get; set; }

    /// <summary>Flag → configuration key. Boolean flags may stand alone (<c>--resume</c>).</summary>
    public static readonly IReadOnlyDictionary<string, string> CommandLineFlags = new Dictionary<string, string>
    {
        ["--teacher"] = "TeacherClient:BaseAddress",
        ["--objective"] = Key(nameof(Objective)), ["--student"] = Key(nameof(Student)), ["--dataset"] = Key(nameof(Dataset)),
        ["--run-dir"] = Key(nameof(RunDirectory)), ["--device"] = Key(nameof(Device)), ["--seed"] = Key(nameof(Seed)),
        ["--resume"] = Key(nameof(Resume)), ["--steps"] = Key(nameof(Steps)), ["--batch-size"] = Key(nameof(BatchSize)),
        ["--group-size"] = Key(nameof(GroupSize)), ["--max-new-tokens"] = Key(nameof(MaxNewTokens)),
        ["--temperature"] = Key(nameof(Temperature)), ["--top-p"] = Key(nameof(TopP)), ["--lr"] = Key(nameof(LearningRate)),
        ["--warmup-steps"] = Key(nameof(WarmupSteps)),
        ["--weight-decay"] = Key(nameof(WeightDecay)), ["--max-grad-norm"] = Key(nameof(MaxGradNorm)),
        ["--inner-epochs"] = Key(nameof(InnerEpochs)), ["--checkpoint-every"] = Key(nameof(CheckpointEvery)),
        ["--threshold"] = Key(nameof(Threshold)), ["--penalty"] = Key(nameof(Penalty)), ["--kappa"] = Key(nameof(Kappa)),
        ["--format-bonus"] = Key(nameof(FormatBonus)), ["--cmdp-form"] = Key(nameof(CmdpForm)),
        ["--violation-target"] = Key(nameof(ViolationTarget)), ["--chance-cost"] = Key(nameof(ChanceCost)), ["--kl-coef"] = Key(nameof(KlCoefficient)),
        ["--lambda-init"] = Key(nameof(LambdaInit)), ["--lambda-lr"] = Key(nameof(LambdaLearningRate)),
        ["--lambda-max"] = Key(nameof(LambdaMax)), ["--lambda-update"] = Key(nameof(LambdaUpdate)), ["--pid-kp"] = Key(nameof(PidKp)),
        ["--pid-ki"] = Key(nameof(PidKi)), ["--pid-kd"] = Key(nameof(PidKd)), ["--cost-estimator"] = Key(nameof(CostEstimator)),
        ["--top-k"] = Key(nameof(TopK)), ["--cost-aggregation"] = Key(nameof(CostAggregation)),
        ["--budget-scope"] = Key(nameof(BudgetScope)), ["--advantage"] = Key(nameof(Advantage)),
        ["--distill-per-token"] = Key(nameof(DistillPerToken)), ["--clip-eps"] = Key(nameof(ClipEpsilon)),
    };

    private static string Key(string property) => $"{SectionName}:{property}";

    public static readonly IReadOnlySet<string> BooleanFlags = new HashSet<string> { "--resume", "--distill-per-token" };

    /// <summary>The objective's settings, with the command-line spellings of the enums parsed.</summary>
    /// <exception cref="OptionsValidationProblem">A spelling is unknown; the message names the flag.</exception>
    public ObjectiveOptions ToObjectiveOptions() => new()
    {
        Threshold = Threshold ?? throw new OptionsValidationProblem("--threshold is required."),
        Penalty = Penalty,
        Kappa = Kappa,
        FormatBonus = FormatBonus,
        CmdpForm = Parse("--cmdp-form", CmdpForm, ("trajectory", Objectives.CmdpForm.Trajectory), ("per-token", Objectives.CmdpForm.PerToken)),
        MaxCompletionLength = Math.Max(1, MaxNewTokens),
        ViolationTarget = ViolationTarget,
        ChanceCost = Parse("--chance-cost", ChanceCost, ("indicator", Objectives.ChanceCost.Indicator), ("hinge", Objectives.ChanceCost.Hinge)),
        KlCoefficient = KlCoefficient,
        LambdaInit = LambdaInit,
        LambdaLearningRate = LambdaLearningRate,
        LambdaMax = LambdaMax,
        LambdaUpdate = Parse("--lambda-update", LambdaUpdate, ("dual-ascent", Objectives.LambdaUpdate.DualAscent), ("pid", Objectives.LambdaUpdate.Pid)),
        Pid = new PidGains(PidKp, PidKi, PidKd),
        Estimator = Parse("--cost-estimator", CostEstimator, [.. CostEstimators.All]),
        TopK = TopK,
        Aggregation = Parse("--cost-aggregation", CostAggregation, ("sum", Core.Divergence.CostAggregation.Sum), ("mean", Core.Divergence.CostAggregation.Mean)),
        Scope = Parse("--budget-scope", BudgetScope, ("sequence", Core.Divergence.BudgetScope.Sequence), ("prefix", Core.Divergence.BudgetScope.Prefix)),
        // "group-normalized" is how run.json files of earlier versions spell group-std.
        Advantage = Parse("--advantage", Advantage, ("group-std", AdvantageMode.GroupStd), ("group-mean", AdvantageMode.GroupMean),
            ("batch-std", AdvantageMode.BatchStd), ("leave-one-out", AdvantageMode.LeaveOneOut), ("group-normalized", AdvantageMode.GroupStd)),
        DistillPerToken = DistillPerToken,
        ClipEpsilon = ClipEpsilon,
    };

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
        Require(MaxNewTokens >= 1, "--max-new-tokens", "at least 1", MaxNewTokens);
        Require(double.IsFinite(Temperature) && Temperature > 0, "--temperature", "a finite number > 0", Temperature);
        Require(TopP > 0 && TopP <= 1, "--top-p", "within (0, 1]", TopP);
        Require(double.IsFinite(LearningRate) && LearningRate > 0, "--lr", "a finite number > 0", LearningRate);
        Require(WarmupSteps >= 0, "--warmup-steps", "at least 0", WarmupSteps);
        Require(double.IsFinite(WeightDecay) && WeightDecay >= 0, "--weight-decay", "a finite number >= 0", WeightDecay);
        Require(double.IsFinite(MaxGradNorm) && MaxGradNorm > 0, "--max-grad-norm", "a finite number > 0", MaxGradNorm);
        Require(InnerEpochs >= 1, "--inner-epochs", "at least 1", InnerEpochs);
        Require(CheckpointEvery >= 1, "--checkpoint-every", "at least 1", CheckpointEvery);
        if (Threshold is null)
        {
            problems.Add("--threshold is required: the KL budget d of the run (every run reports its CSR at d).");
            return problems;
        }
        try
        {
            problems.AddRange(ToObjectiveOptions().Validate());
        }
        catch (OptionsValidationProblem problem)
        {
            problems.Add(problem.Message);
        }
        return problems;
    }

    /// <summary>The learning rate of step <paramref name="step"/> (1-based): linear warm-up over <see cref="WarmupSteps"/>, then constant.</summary>
    public double LearningRateAt(int step) => WarmupSteps == 0 ? LearningRate : LearningRate * Math.Min(1.0, step / (double)WarmupSteps);

    private static T Parse<T>(string flag, string value, params (string Spelling, T Value)[] choices)
    {
        foreach (var (spelling, choice) in choices)
            if (string.Equals(spelling, value?.Trim(), StringComparison.OrdinalIgnoreCase))
                return choice;
        throw new OptionsValidationProblem($"{flag} must be one of {string.Join("|", choices.Select(c => c.Spelling))} (got {value}).");
    }
}
