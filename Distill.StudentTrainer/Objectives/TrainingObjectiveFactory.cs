namespace Distill.StudentTrainer.Objectives;

/// <summary>Builds an objective from its <c>--objective</c> name; the one list of the names.</summary>
public static class TrainingObjectiveFactory
{
    public const string Cmdp = "cmdp";
    public const string Lagrangian = "lagrangian";
    public const string LagrangianChance = "lagrangian-chance";
    public const string KlPenalty = "kl-penalty";
    public const string RewardOnly = "reward-only";
    public const string Distill = "distill";
    public const string Sft = "sft";

    public static readonly IReadOnlyList<string> Names = [Cmdp, Lagrangian, LagrangianChance, KlPenalty, RewardOnly, Distill, Sft];

    /// <summary><c>sft</c> samples nothing and asks the teacher nothing: the trainer gives it a supervised update instead of an objective.</summary>
    public static bool IsSupervised(string name) => Normalize(name) == Sft;

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
