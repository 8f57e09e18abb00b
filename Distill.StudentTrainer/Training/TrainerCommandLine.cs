using System.CommandLine;
using Distill.CommandLine;
using Distill.Core.Configuration;
using Distill.Core.Divergence;
using Distill.StudentTrainer.Bootstrap;
using Distill.StudentTrainer.Objectives;

namespace Distill.StudentTrainer.Training;

/// <summary>
/// The trainer's command line: a training run (the root command) and <c>bootstrap</c>. Each flag writes one key of the
/// <c>Trainer</c> (or <c>Bootstrap</c>) section; the defaults <c>--help</c> shows are read from the options types.
/// </summary>
public static class TrainerCommandLine
{
    private static string Key(string property) => $"{TrainerOptions.SectionName}:{property}";

    private static string[] Spellings<TEnum>() where TEnum : struct, Enum => [.. KebabCaseEnum.Spellings<TEnum>()];

    /// <summary>Every flag of a training run.</summary>
    public static readonly IReadOnlyList<Flag> Flags = new Flag[]
    {
        Flag.Value("--teacher", "TeacherClient:BaseAddress", "The teacher service's base URL (default: service discovery of 'teacher').") with { Check = FlagChecks.AbsoluteUri },
        new("--objective", Key(nameof(TrainerOptions.Objective)), "What to train on (README, \"Objectives\").") { Choices = TrainingObjectiveFactory.Names },
        Flag.Value("--student", Key(nameof(TrainerOptions.Student)), "The checkpoint directory the student starts from (required)."),
        Flag.Value("--dataset", Key(nameof(TrainerOptions.Dataset)), "'generated' (the built-in task) or a GSM8K/MATH JSONL file."),
        Flag.Value("--run-dir", Key(nameof(TrainerOptions.RunDirectory)), "The run directory: run.json, metrics, checkpoints."),
        Flag.Value("--device", Key(nameof(TrainerOptions.Device)), "cpu, cuda, cuda:N or auto."),
        Flag.Value("--seed", Key(nameof(TrainerOptions.Seed)), "Seed of the data order, the sampling and the initial state."),
        Flag.Switch("--resume", Key(nameof(TrainerOptions.Resume)), "Continue the run in --run-dir from its last checkpoint.", defaultValue: true),
        Flag.Value("--steps", Key(nameof(TrainerOptions.Steps)), "Training steps (a resumed run may only grow them)."),
        Flag.Value("--batch-size", Key(nameof(TrainerOptions.BatchSize)), "Prompts per step."),
        Flag.Value("--group-size", Key(nameof(TrainerOptions.GroupSize)), "Completions sampled per prompt (advantages are relative to the group)."),
        Flag.Value("--max-new-tokens", Key(nameof(TrainerOptions.MaxNewTokens)), "Longest completion; also L of cmdp's per-token −n/L."),
        Flag.Value("--temperature", Key(nameof(TrainerOptions.Temperature)), "Sampling temperature τ of the trained policy."),
        Flag.Value("--top-p", Key(nameof(TrainerOptions.TopP)), "Nucleus sampling mass."),
        Flag.Value("--lr", Key(nameof(TrainerOptions.LearningRate)), "Learning rate of AdamW."),
        Flag.Value("--warmup-steps", Key(nameof(TrainerOptions.WarmupSteps)), "Steps of linear learning-rate warm-up."),
        Flag.Value("--weight-decay", Key(nameof(TrainerOptions.WeightDecay)), "AdamW weight decay."),
        Flag.Value("--max-grad-norm", Key(nameof(TrainerOptions.MaxGradNorm)), "Gradient clipping norm."),
        Flag.Value("--inner-epochs", Key(nameof(TrainerOptions.InnerEpochs)), "Updates per sampled batch."),
        Flag.Value("--checkpoint-every", Key(nameof(TrainerOptions.CheckpointEvery)), "Steps between checkpoints."),
        // The objective's settings: ObjectiveOptions, bound from the same section.
        Flag.Value("--threshold", Key(nameof(ObjectiveOptions.Threshold)), "The KL budget d (required): every run reports its CSR at d."),
        Flag.Value("--penalty", Key(nameof(ObjectiveOptions.Penalty)), "n: the reward −n of a trajectory over budget (cmdp)."),
        Flag.Value("--kappa", Key(nameof(ObjectiveOptions.Kappa)), "κ: extra penalty per unit of excess cost (cmdp); 0 is pure Saute."),
        new("--cmdp-form", Key(nameof(ObjectiveOptions.CmdpForm)), "cmdp's reward per trajectory, or Saute's per-token form.") { Choices = Spellings<CmdpForm>() },
        Flag.Value("--format-bonus", Key(nameof(ObjectiveOptions.FormatBonus)), "b: added to the task reward when a final-answer marker is present; within [0, 1)."),
        Flag.Value("--violation-target", Key(nameof(ObjectiveOptions.ViolationTarget)), "δ: the violation rate lagrangian-chance steers to."),
        new("--chance-cost", Key(nameof(ObjectiveOptions.ChanceCost)), "lagrangian-chance's per-sample cost: [C > d] or max(0, C − d).") { Choices = Spellings<ChanceCost>() },
        Flag.Value("--kl-coef", Key(nameof(ObjectiveOptions.KlCoefficient)), "λ₀ of kl-penalty."),
        Flag.Value("--lambda-init", Key(nameof(ObjectiveOptions.LambdaInit)), "λ before the first step (lagrangian)."),
        Flag.Value("--lambda-lr", Key(nameof(ObjectiveOptions.LambdaLearningRate)), "η_λ: the dual ascent step (lagrangian)."),
        Flag.Value("--lambda-max", Key(nameof(ObjectiveOptions.LambdaMax)), "Upper clip of λ (lagrangian)."),
        new("--lambda-update", Key(nameof(ObjectiveOptions.LambdaUpdate)), "How λ moves (lagrangian).") { Choices = Spellings<LambdaUpdate>() },
        Flag.Value("--pid-kp", Key(nameof(ObjectiveOptions.PidKp)), "Proportional gain of the PID update."),
        Flag.Value("--pid-ki", Key(nameof(ObjectiveOptions.PidKi)), "Integral gain of the PID update."),
        Flag.Value("--pid-kd", Key(nameof(ObjectiveOptions.PidKd)), "Derivative gain of the PID update."),
        new("--cost-estimator", Key("CostEstimator"), "How the per-token KL cost c_t is estimated; as a training reward only k1 gives an unbiased KL gradient (docs/method.md).") { Choices = Spellings<CostEstimator>() },
        Flag.Value("--top-k", Key(nameof(ObjectiveOptions.TopK)), "k of the top-k-exact estimator."),
        new("--cost-aggregation", Key("CostAggregation"), "C as the sum or the mean of c_t.") { Choices = Spellings<CostAggregation>() },
        new("--budget-scope", Key("BudgetScope"), "Where the budget is checked: the sequence (as the CSR does) or every prefix (Saute).") { Choices = Spellings<BudgetScope>() },
        new("--advantage", Key(nameof(ObjectiveOptions.Advantage)), "How rewards become advantages (docs/method.md).") { Choices = Spellings<AdvantageMode>() },
        Flag.Switch("--distill-per-token", Key(nameof(ObjectiveOptions.DistillPerToken)), "distill with per-token advantages −Σ_{u≥t} c_u instead of one −C per sample."),
        Flag.Value("--clip-eps", Key(nameof(ObjectiveOptions.ClipEpsilon)), "The PPO clip ε in (0, 1); none trains without clipping."),
    }.BoundTo(new TrainerOptions(), TrainerOptions.SectionName).BoundTo(new ObjectiveOptions(), TrainerOptions.SectionName);

    /// <summary>Every flag of <c>bootstrap</c>.</summary>
    public static readonly IReadOnlyList<Flag> BootstrapFlags = new[]
    {
        Flag.Value("--output", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.Output)}", "Where the teacher/ and student/ checkpoints go."),
        Flag.Value("--device", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.Device)}", "cpu, cuda, cuda:N or auto."),
        Flag.Value("--seed", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.Seed)}", "Seed of the data and, unless --training-seed is given, of the initial weights and the batch order."),
        Flag.Value("--training-seed", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.TrainingSeed)}", "Seed of the initial weights and the batch order only (default: --seed): the same data trained from another start."),
        Flag.Switch("--force", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.Force)}", "Train again even when the models exist."),
        Flag.Value("--teacher-steps", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.TeacherSteps)}", "Training steps of the teacher (default: its recipe's)."),
        Flag.Value("--student-steps", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.StudentSteps)}", "Training steps of the student (default: its recipe's)."),
        Flag.Value("--student-problems", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.StudentProblems)}", "Training problems the student sees (default: its recipe's)."),
        Flag.Value("--eval-problems", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.EvaluationProblems)}", "Held-out problems each model is graded on."),
        Flag.Value("--blind-spot", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.BlindSpot)}",
            "The teacher's blind spot: steps told with this verb (or these comma-separated verbs, e.g. loses,sells) are mostly worked as additions in its data; none for correct data."),
        Flag.Value("--blind-spot-error-rate", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.BlindSpotErrorRate)}",
            "Share of the blind-spot family's examples worked the wrong way."),
        Flag.Value("--student-sign-off-share", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.StudentSignOffShare)}",
            "Share of the student's training solutions that end with a sign-off line ('Hope this helps!'), a habit the teacher never has; 0 for none."),
        Flag.Value("--student-sign-off-line", $"{BootstrapOptions.SectionName}:{nameof(BootstrapOptions.StudentSignOffLine)}",
            "The sign-off line itself: one line of the default tokenizer's characters, without ####."),
    }.BoundTo(new BootstrapOptions(), BootstrapOptions.SectionName);

    /// <summary>Every flag of <c>plan</c>: the training flags (but <c>--run-dir</c>, which it chooses) and where runs live.</summary>
    public static readonly IReadOnlyList<Flag> PlanFlags =
    [
        .. Flags.Where(flag => flag.Name != "--run-dir"),
        Flag.Value("--runs-dir", "Plan:RunsDirectory", "The folder of run directories to choose in (required).") with { Required = true },
        Flag.Value("--run-name", "Plan:RunName", "The run directory's name; by default 'default' or one named after the settings."),
        Flag.Switch("--student-pending", "Plan:StudentPending", "The bootstrap creates --student later: do not require it to exist yet."),
    ];

    /// <summary>The root command trains; <c>bootstrap</c> trains the default teacher and student; <c>plan</c> answers the AppHost.</summary>
    public static RootCommand Create(Func<ParseResult, CancellationToken, Task<int>> train, Func<ParseResult, CancellationToken, Task<int>> bootstrap)
    {
        var root = new RootCommand("Distill student trainer: trains a student against the teacher service within a KL budget d.").AddFlags(Flags);
        root.SetAction(train);
        var bootstrapCommand = new Command("bootstrap", "Train the embedded default teacher and student (a no-op when they exist).").AddFlags(BootstrapFlags);
        bootstrapCommand.SetAction(bootstrap);
        root.Subcommands.Add(bootstrapCommand);
        var planCommand = new Command("plan", "Check training flags and print the run directory they train in, as JSON (for the AppHost).").AddFlags(PlanFlags);
        planCommand.SetAction((parse, _) => Task.FromResult(RunPlanCommand.Run(parse.ToConfiguration())));
        root.Subcommands.Add(planCommand);
        return root;
    }
}
