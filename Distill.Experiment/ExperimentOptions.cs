using System.CommandLine;
using System.Globalization;
using Distill.CommandLine;
using Distill.Core.Configuration;
using Distill.Core.Divergence;
using Distill.StudentTrainer.Objectives;
using Microsoft.Extensions.Configuration;

namespace Distill.Experiment;

/// <summary>
/// What the experiment runs, from its flags. The defaults are the documented experiment (docs/results.md); the smoke
/// test in the suite shrinks them. Every run of one experiment gets the same schedule, so the same number of steps and
/// of teacher-scored samples.
/// </summary>
public sealed class ExperimentOptions
{
    public string Output { get; set; } = "data/experiment";
    public string Models { get; set; } = "data/models";
    public string Device { get; set; } = "auto";
    public string Thresholds { get; set; } = "8,12,16";
    public string Seeds { get; set; } = "1,2,3";
    public string Objectives { get; set; } = "cmdp,lagrangian,kl-penalty,reward-only,distill,sft";
    public string KlCoefficients { get; set; } = "0.05,0.2";
    public bool Sensitivity { get; set; } = true;
    public string Penalties { get; set; } = "0.5,2";
    public string Kappas { get; set; } = "0,0.3";
    public string LambdaLearningRates { get; set; } = "0.001,0.03";

    /// <summary>
    /// δ of lagrangian-chance, one method each: the knob that traces its frontier (a target violation rate δ asks for a
    /// CSR of 1 − δ). The trainer's default alone keeps the method's plain name.
    /// </summary>
    public string ViolationTargets { get; set; } = ExperimentPlan.Number(ExperimentPlan.DefaultViolationTarget);

    /// <summary>
    /// η_λ of lagrangian-chance's dual ascent (the trainer's default unless given). λ moves by η_λ·(v̂ − δ) a step, an
    /// excess of about a tenth in docs/results.md's runs, so at the expectation form's rate (0.01) λ stays far below a
    /// reward's scale over a schedule of a few hundred steps (0.26 after 200).
    /// </summary>
    public double ChanceLambdaLearningRate { get; set; } = ExperimentPlan.DefaultLambdaLearningRate;

    /// <summary>
    /// distill with per-token returns −Σ_{u≥t} c_u, on-policy distillation's usual form, rather than one −C per sample:
    /// the baseline at its best (it removed a third of the KL in 200 steps where −C removed a fifth; docs/default-models.md).
    /// </summary>
    public bool DistillPerToken { get; set; } = true;

    /// <summary>
    /// The forms of cmdp to run, one method each: <c>trajectory</c> (the method as stated, and the reference of the paired
    /// differences) and Saute's <c>per-token</c>, whose tokens after the budget crossing carry the penalty even when every
    /// sample of a group crossed it, so the group's baseline does not cancel it.
    /// </summary>
    public string CmdpForms { get; set; } = "trajectory";

    /// <summary>
    /// How every run estimates the per-token costs it trains on (the trainer's default, k1, unless given). The held-out
    /// evaluation uses the lowest-variance estimator the teacher allows; <c>exact</c> here trains on the value the CSR is
    /// measured with, but as a reward it leaves out each state's own KL gradient, which k1 keeps (docs/method.md).
    /// </summary>
    public CostEstimator CostEstimator { get; set; } = new ObjectiveOptions().Estimator;

    /// <summary>
    /// How every sampling run turns shaped returns into advantages (the trainer's default, group-mean, unless given). Any
    /// other mode is named in every method and run it changes ("cmdp group-reward-batch-penalty"), so its rows never pass
    /// for the default's and both can share one <c>--out</c>. sft samples nothing and has no advantages.
    /// </summary>
    public AdvantageMode Advantage { get; set; } = ObjectiveOptions.DefaultAdvantage;

    // The schedule every run shares.
    public int Steps { get; set; } = 40;
    public int BatchSize { get; set; } = 16;
    public int GroupSize { get; set; } = 8;
    public double LearningRate { get; set; } = 1e-4;

    /// <summary>
    /// Learning rates per objective ("distill=0.0001,reward-only=0.0003"), overriding <see cref="LearningRate"/>: the
    /// rates a sweep on the validation split chose for each method.
    /// </summary>
    public string MethodLearningRates { get; set; } = "";

    /// <summary>A learning-rate sweep: every method at each rate, as its own row (scored with <see cref="EvaluationSplit"/> validation).</summary>
    public string LearningRateSweep { get; set; } = "";
    public int WarmupSteps { get; set; } = 10;
    public double Temperature { get; set; } = 0.7;
    public int MaxNewTokens { get; set; } = 48;
    public int CheckpointEvery { get; set; } = 10;

    // The held-out evaluation of every final checkpoint (and of the starting student).
    public int EvaluationProblems { get; set; } = 200;
    public int EvaluationSamples { get; set; } = 4;

    /// <summary>
    /// Also evaluate every intermediate checkpoint on the held-out set, one evaluation each: when a run rose or fell,
    /// which its final checkpoint alone cannot tell (docs/results.md had to retrain a run to a shorter schedule for it).
    /// </summary>
    public bool EvaluateEveryCheckpoint { get; set; }

    /// <summary>The split of the generated held-out problems: test, or validation for the learning-rate sweep.</summary>
    public string EvaluationSplit { get; set; } = "test";

    public const string SectionName = "Experiment";

    private static string Key(string property) => $"{SectionName}:{property}";

    /// <summary>Every flag of the experiment; <c>--help</c> shows the defaults above.</summary>
    public static readonly IReadOnlyList<Flag> Flags = new[]
    {
        Flag.Value("--out", Key(nameof(Output)), "Where results.md, results.json, the plots and the runs go."),
        Flag.Value("--models", Key(nameof(Models)), "The default teacher and student (trained there on first use)."),
        Flag.Value("--device", Key(nameof(Device)), "cpu, cuda, cuda:N or auto."),
        Flag.Value("--thresholds", Key(nameof(Thresholds)), "Comma-separated KL budgets d."),
        Flag.Value("--seeds", Key(nameof(Seeds)), "Comma-separated seeds."),
        Flag.Value("--objectives", Key(nameof(Objectives)), "Comma-separated objectives (README, \"Objectives\"; sft trains on reference solutions, and its checkpoint is evaluated like every other)."),
        Flag.Value("--kl-coefs", Key(nameof(KlCoefficients)), "Comma-separated λ₀ of kl-penalty, one method each."),
        Flag.Switch("--sensitivity", Key(nameof(Sensitivity)), "Also move cmdp's n and κ and lagrangian's λ learning rate.", defaultValue: true),
        Flag.Value("--penalties", Key(nameof(Penalties)), "Comma-separated n of the sensitivity runs."),
        Flag.Value("--kappas", Key(nameof(Kappas)), "Comma-separated κ of the sensitivity runs."),
        Flag.Value("--lambda-lrs", Key(nameof(LambdaLearningRates)), "Comma-separated λ learning rates of the sensitivity runs."),
        Flag.Value("--violation-targets", Key(nameof(ViolationTargets)), "Comma-separated δ of lagrangian-chance (target violation rate), one method each."),
        Flag.Value("--chance-lambda-lr", Key(nameof(ChanceLambdaLearningRate)), "η_λ of lagrangian-chance's dual ascent (λ += η_λ·(v̂ − δ) a step)."),
        Flag.Switch("--distill-per-token", Key(nameof(DistillPerToken)), "distill with per-token returns −Σ_{u≥t} c_u (false: one −C per sample).", defaultValue: true),
        Flag.Value("--cmdp-forms", Key(nameof(CmdpForms)), "Comma-separated forms of cmdp, one method each: trajectory (\"cmdp\"), per-token (\"cmdp per-token\", Saute's)."),
        new Flag("--cost-estimator", Key(nameof(CostEstimator)), "How every run estimates the per-token costs it trains on; only k1 gives an unbiased KL gradient (held-out CSR and KL use the exact one).") { Choices = KebabCaseEnum.Spellings<CostEstimator>() },
        new Flag("--advantage", Key(nameof(Advantage)), "How every sampling run turns shaped returns into advantages (docs/method.md); a mode other than the default is named in each method.") { Choices = KebabCaseEnum.Spellings<AdvantageMode>() },
        Flag.Value("--steps", Key(nameof(Steps)), "Training steps of every run."),
        Flag.Value("--batch-size", Key(nameof(BatchSize)), "Prompts per step."),
        Flag.Value("--group-size", Key(nameof(GroupSize)), "Completions per prompt."),
        Flag.Value("--lr", Key(nameof(LearningRate)), "Learning rate."),
        Flag.Value("--method-lrs", Key(nameof(MethodLearningRates)), "Learning rates per objective, overriding --lr: objective=rate,… (the sweep's choices)."),
        Flag.Value("--lr-sweep", Key(nameof(LearningRateSweep)), "Comma-separated learning rates: every method at each, one row each (score it with --eval-split validation)."),
        Flag.Value("--warmup-steps", Key(nameof(WarmupSteps)), "Steps of learning-rate warm-up."),
        Flag.Value("--temperature", Key(nameof(Temperature)), "Sampling temperature τ."),
        Flag.Value("--max-new-tokens", Key(nameof(MaxNewTokens)), "Longest completion."),
        Flag.Value("--checkpoint-every", Key(nameof(CheckpointEvery)), "Steps between checkpoints."),
        Flag.Value("--eval-problems", Key(nameof(EvaluationProblems)), "Held-out problems every final checkpoint is evaluated on."),
        Flag.Value("--eval-samples", Key(nameof(EvaluationSamples)), "Sampled completions per held-out problem."),
        Flag.Switch("--eval-every-checkpoint", Key(nameof(EvaluateEveryCheckpoint)), "Also evaluate every intermediate checkpoint on the held-out set (one evaluation each; results.md tables them per run).", defaultValue: false),
        new Flag("--eval-split", Key(nameof(EvaluationSplit)), "test, or validation for choosing learning rates without reading the test split (give that experiment its own --out).") { Choices = ["test", "validation"] },
    }.BoundTo(new ExperimentOptions(), SectionName);

    /// <summary>
    /// Every objective of the factory. sft samples nothing and asks the teacher nothing while it trains, but its final
    /// checkpoint samples on the held-out set like any other, so it has an accuracy, a KL and a CSR: one point.
    /// </summary>
    public static readonly IReadOnlyList<string> KnownObjectives = TrainingObjectiveFactory.Names;

    /// <summary>The experiment's command: its flags, <c>--help</c>, and <paramref name="run"/> with the options they set.</summary>
    public static RootCommand CreateCommand(Func<ExperimentOptions, Task<int>> run)
    {
        var root = new RootCommand("Distill experiment: every objective over thresholds and seeds, evaluated on one held-out set.").AddFlags(Flags);
        root.SetAction((parse, _) => run(Bind(parse.ToConfiguration())));
        return root;
    }

    /// <summary>Options from flags; the message of the exception names the flag.</summary>
    /// <exception cref="OptionsValidationProblem">An unknown flag, a value of the wrong type, or an invalid value.</exception>
    public static ExperimentOptions Parse(IReadOnlyList<string> args) => Bind(FlagCommandLine.ToConfiguration(Flags, args));

    /// <summary>Options from the configuration the flags set, validated once; the message of the exception names the flag.</summary>
    /// <exception cref="OptionsValidationProblem">A value of the wrong type, or an invalid value.</exception>
    public static ExperimentOptions Bind(IReadOnlyDictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        ExperimentOptions options;
        try
        {
            options = configuration.GetSection(SectionName).Get<ExperimentOptions>() ?? new ExperimentOptions();
        }
        catch (InvalidOperationException error)
        {
            var flag = Flags.FirstOrDefault(f => error.Message.Contains($"'{f.Key}'", StringComparison.Ordinal))?.Name ?? "a flag";
            throw new OptionsValidationProblem($"{flag} has a value of the wrong type: {error.InnerException?.Message ?? error.Message}");
        }
        if (options.Validate() is { Count: > 0 } problems)
            throw new OptionsValidationProblem(string.Join(Environment.NewLine, problems));
        return options;
    }

    public IReadOnlyList<double> ThresholdValues => Numbers("--thresholds", Thresholds);
    public IReadOnlyList<int> SeedValues => Numbers("--seeds", Seeds).Select(s => (int)s).ToArray();
    public IReadOnlyList<string> ObjectiveNames => Words(Objectives);
    public IReadOnlyList<double> KlCoefficientValues => Numbers("--kl-coefs", KlCoefficients);
    public IReadOnlyList<double> PenaltyValues => Numbers("--penalties", Penalties);
    public IReadOnlyList<double> KappaValues => Numbers("--kappas", Kappas);
    public IReadOnlyList<double> LambdaLearningRateValues => Numbers("--lambda-lrs", LambdaLearningRates);
    public IReadOnlyList<double> ViolationTargetValues => Numbers("--violation-targets", ViolationTargets);

    public IReadOnlyList<CmdpForm> CmdpFormValues => Words(CmdpForms).Select(word =>
        KebabCaseEnum.TryParse<CmdpForm>(word, out var form)
            ? form
            : throw new OptionsValidationProblem($"--cmdp-forms: '{word}' is not one of {string.Join(", ", KebabCaseEnum.Spellings<CmdpForm>())}.")).ToArray();

    public IReadOnlyList<double> LearningRateSweepValues => Numbers("--lr-sweep", LearningRateSweep);

    /// <summary>The rate of <paramref name="objective"/>: its <c>--method-lrs</c> entry, else <c>--lr</c>.</summary>
    public double LearningRateOf(string objective) => MethodLearningRateValues.TryGetValue(objective, out var rate) ? rate : LearningRate;

    public IReadOnlyDictionary<string, double> MethodLearningRateValues => Words(MethodLearningRates).Select(pair =>
    {
        var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
        return parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate)
            ? (Objective: parts[0], Rate: rate)
            : throw new OptionsValidationProblem($"--method-lrs: '{pair}' is not objective=rate.");
    }).ToDictionary(p => p.Objective, p => p.Rate);

    /// <summary>Samples scored by the teacher over one run: the same for every RL objective (sft: none; it reads as many reference solutions).</summary>
    public long TeacherScoredSamplesPerRun => (long)Steps * BatchSize * GroupSize;

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Require(bool condition, string flag, string rule, object? value)
        {
            if (!condition) problems.Add($"{flag} must be {rule} (got {value ?? "nothing"}).");
        }
        void RequireList(string flag, Func<object> read, Func<bool> rule, string description, object raw)
        {
            try { _ = read(); Require(rule(), flag, description, raw); }
            catch (OptionsValidationProblem problem) { problems.Add(problem.Message); }
        }

        RequireList("--thresholds", () => ThresholdValues, () => ThresholdValues.Count > 0 && ThresholdValues.All(d => d > 0 && double.IsFinite(d)),
            "a comma-separated list of positive numbers", Thresholds);
        RequireList("--seeds", () => SeedValues, () => SeedValues.Count > 0 && SeedValues.Distinct().Count() == SeedValues.Count
            && Numbers("--seeds", Seeds).All(s => s == Math.Floor(s)),
            "a comma-separated list of distinct integers", Seeds);
        Require(Words(Objectives).Count > 0 && Words(Objectives).All(KnownObjectives.Contains), "--objectives",
            $"a comma-separated list of {string.Join(", ", KnownObjectives)}", Objectives);
        RequireList("--kl-coefs", () => KlCoefficientValues, () => KlCoefficientValues.Count > 0 && KlCoefficientValues.All(v => v >= 0),
            "a comma-separated list of numbers >= 0", KlCoefficients);
        RequireList("--penalties", () => PenaltyValues, () => PenaltyValues.All(v => v >= 0), "a comma-separated list of numbers >= 0", Penalties);
        RequireList("--kappas", () => KappaValues, () => KappaValues.All(v => v >= 0), "a comma-separated list of numbers >= 0", Kappas);
        RequireList("--lambda-lrs", () => LambdaLearningRateValues, () => LambdaLearningRateValues.All(v => v > 0),
            "a comma-separated list of numbers > 0", LambdaLearningRates);
        RequireList("--violation-targets", () => ViolationTargetValues,
            () => ViolationTargetValues.Count > 0 && ViolationTargetValues.Distinct().Count() == ViolationTargetValues.Count
                && ViolationTargetValues.All(v => v >= 0 && v < 1),
            "a comma-separated list of distinct numbers within [0, 1)", ViolationTargets);
        Require(ChanceLambdaLearningRate > 0 && double.IsFinite(ChanceLambdaLearningRate), "--chance-lambda-lr", "a finite number > 0", ChanceLambdaLearningRate);
        RequireList("--cmdp-forms", () => CmdpFormValues, () => CmdpFormValues.Count > 0 && CmdpFormValues.Distinct().Count() == CmdpFormValues.Count,
            $"a comma-separated list of distinct forms of {string.Join(", ", KebabCaseEnum.Spellings<CmdpForm>())}", CmdpForms);
        Require(!string.IsNullOrWhiteSpace(Output), "--out", "a directory path", Output);
        Require(!string.IsNullOrWhiteSpace(Models), "--models", "a directory path", Models);
        Require(Steps >= 1, "--steps", "at least 1", Steps);
        Require(BatchSize >= 1, "--batch-size", "at least 1", BatchSize);
        Require(GroupSize >= 2, "--group-size", "at least 2", GroupSize);
        Require(LearningRate > 0 && double.IsFinite(LearningRate), "--lr", "a finite number > 0", LearningRate);
        RequireList("--lr-sweep", () => LearningRateSweepValues, () => LearningRateSweepValues.All(v => v > 0 && double.IsFinite(v)),
            "a comma-separated list of finite numbers > 0", LearningRateSweep);
        RequireList("--method-lrs", () => MethodLearningRateValues,
            () => MethodLearningRateValues.All(p => KnownObjectives.Contains(p.Key) && p.Value > 0 && double.IsFinite(p.Value)),
            $"objective=rate pairs of {string.Join(", ", KnownObjectives)} with finite rates > 0", MethodLearningRates);
        try
        {
            Require(LearningRateSweepValues.Count == 0 || MethodLearningRateValues.Count == 0, "--lr-sweep",
                "given without --method-lrs (a sweep runs every method at each rate)", LearningRateSweep);
        }
        catch (OptionsValidationProblem)
        {
            // A list that does not parse is reported above.
        }
        Require(EvaluationSplit is "test" or "validation", "--eval-split", "test or validation", EvaluationSplit);
        Require(WarmupSteps >= 0, "--warmup-steps", "at least 0", WarmupSteps);
        Require(Temperature > 0 && double.IsFinite(Temperature), "--temperature", "a finite number > 0", Temperature);
        Require(MaxNewTokens >= 1, "--max-new-tokens", "at least 1", MaxNewTokens);
        Require(CheckpointEvery >= 1, "--checkpoint-every", "at least 1", CheckpointEvery);
        Require(EvaluationProblems >= 1, "--eval-problems", "at least 1", EvaluationProblems);
        Require(EvaluationSamples >= 1, "--eval-samples", "at least 1", EvaluationSamples);
        return problems;
    }

    private static IReadOnlyList<string> Words(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w => w.ToLowerInvariant()).ToArray();

    private static IReadOnlyList<double> Numbers(string flag, string? list) => Words(list).Select(word =>
        double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new OptionsValidationProblem($"{flag}: '{word}' is not a number.")).ToArray();
}
