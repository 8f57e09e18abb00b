namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// What an objective is, for everyone who lists objectives (the trainer's flags, the experiment, the README's table).
/// </summary>
/// <param name="Name">The <c>--objective</c> name.</param>
/// <param name="Summary">What it trains on, in one line.</param>
/// <param name="UsesThreshold">Whether d enters the objective. Every run reports its CSR at d; one whose objective ignores
/// d trains the same whatever d is, so one run serves every threshold.</param>
/// <param name="Settings">The flags it reads beyond the shared schedule (each a setting of <see cref="ObjectiveOptions"/>).</param>
/// <param name="IsSupervised">Samples nothing and asks the teacher nothing: a supervised update, not an RL objective.</param>
public sealed record ObjectiveInfo(string Name, string Summary, bool UsesThreshold, IReadOnlyList<string> Settings, bool IsSupervised = false);

/// <summary>Builds an objective from its <c>--objective</c> name; the one list of the names and of what each reads.</summary>
public static class TrainingObjectiveFactory
{
    public const string Cmdp = "cmdp";
    public const string Lagrangian = "lagrangian";
    public const string LagrangianChance = "lagrangian-chance";
    public const string KlPenalty = "kl-penalty";
    public const string RewardOnly = "reward-only";
    public const string Distill = "distill";
    public const string Sft = "sft";

    // Every shaped objective adds --format-bonus to the task reward and reads the cost as --cost-estimator,
    // --cost-aggregation and --budget-scope make it; the lists below are what each reads beyond that.
    private static readonly string[] LagrangeMultiplier = ["--lambda-init", "--lambda-lr", "--lambda-max", "--lambda-update", "--pid-kp", "--pid-ki", "--pid-kd"];

    /// <summary>Every objective, in the order they are listed.</summary>
    public static readonly IReadOnlyList<ObjectiveInfo> All =
    [
        new(Cmdp, "Saute reshaping: R (+ b) within budget, −n − κ·max(0, C − d) once C > d", UsesThreshold: true,
            ["--threshold", "--penalty", "--kappa", "--cmdp-form"]),
        new(Lagrangian, "R − λ·C, λ raised by dual ascent (or PID) while the mean C is over d", UsesThreshold: true,
            ["--threshold", .. LagrangeMultiplier]),
        new(LagrangianChance, "R − λ·[C > d] (or the hinge), λ steered until the violation rate is δ", UsesThreshold: true,
            ["--threshold", "--violation-target", "--chance-cost", .. LagrangeMultiplier]),
        new(KlPenalty, "R − λ₀·C with a fixed λ₀", UsesThreshold: false, ["--kl-coef"]),
        new(RewardOnly, "R alone (GRPO); C is measured, not optimised", UsesThreshold: false, []),
        new(Distill, "−C alone: on-policy distillation, no task reward", UsesThreshold: false, ["--distill-per-token"]),
        new(Sft, "supervised fine-tuning on the reference solutions; samples nothing, asks the teacher nothing", UsesThreshold: false, [],
            IsSupervised: true),
    ];

    public static readonly IReadOnlyList<string> Names = [.. All.Select(objective => objective.Name)];

    /// <summary>The objective called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public static ObjectiveInfo Info(string name) => All.FirstOrDefault(objective => objective.Name == Normalize(name))
        ?? throw new ArgumentException($"unknown --objective '{name}': expected one of {string.Join("|", Names)}.", nameof(name));

    /// <summary><c>sft</c> samples nothing and asks the teacher nothing: the trainer gives it a supervised update instead of an objective.</summary>
    public static bool IsSupervised(string name) => All.Any(objective => objective.Name == Normalize(name) && objective.IsSupervised);

    /// <summary>The README's table of objectives, made from <see cref="All"/> (a test keeps the README's copy in step).</summary>
    public static string MarkdownTable()
    {
        var table = new System.Text.StringBuilder("| objective | trains on | uses d | reads |\n| --- | --- | --- | --- |\n");
        foreach (var objective in All)
            table.Append($"| `{objective.Name}` | {objective.Summary} | {(objective.UsesThreshold ? "yes" : "no")} | " +
                         $"{string.Join(", ", objective.Settings.Select(flag => $"`{flag}`"))} |\n");
        return table.ToString();
    }

    /// <exception cref="ArgumentException">An unknown or supervised name, or options that fail <see cref="ObjectiveOptions.Validate"/>.</exception>
    public static ITrainingObjective Create(string name, ObjectiveOptions options)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
            throw new ArgumentException(string.Join(Environment.NewLine, problems), nameof(options));

        return Normalize(name) switch
        {
            Cmdp => new CmdpObjective(options),
            Lagrangian => new LagrangianObjective(options, LagrangianForm.Expectation),
            LagrangianChance => new LagrangianObjective(options, LagrangianForm.Chance),
            KlPenalty => new KlPenaltyObjective(options),
            RewardOnly => new RewardOnlyObjective(options),
            Distill => new DistillObjective(options),
            Sft => throw new ArgumentException("--objective sft is supervised: it has no shaped reward (see IsSupervised).", nameof(name)),
            _ => throw new ArgumentException($"unknown --objective '{name}': expected one of {string.Join("|", Names)}.", nameof(name)),
        };
    }

    private static string Normalize(string? name) => (name ?? string.Empty).Trim().ToLowerInvariant();
}
