namespace Distill.StudentTrainer.Objectives;

/// <summary>Builds an objective from its <c>--objective</c> name.</summary>
public static class TrainingObjectiveFactory
{
    public const string Cmdp = "cmdp";
    public const string Lagrangian = "lagrangian";
    public const string KlPenalty = "kl-penalty";
    public const string RewardOnly = "reward-only";
    public const string Distill = "distill";
    public const string Sft = "sft";

    public static readonly IReadOnlyList<string> Names = [Cmdp, Lagrangian, KlPenalty, RewardOnly, Distill, Sft];

    /// <exception cref="ArgumentException">An unknown name, or options that fail <see cref="ObjectiveOptions.Validate"/>.</exception>
    public static ITrainingObjective Create(string name, ObjectiveOptions options)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
            throw new ArgumentException(string.Join(Environment.NewLine, problems), nameof(options));

        return (name ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            Cmdp => new CmdpObjective(options),
            Lagrangian => new LagrangianObjective(options),
            KlPenalty => new KlPenaltyObjective(options),
            RewardOnly => new RewardOnlyObjective(options),
            Distill => new DistillObjective(options),
            Sft => new SftObjective(),
            _ => throw new ArgumentException($"unknown --objective '{name}': expected one of {string.Join("|", Names)}.", nameof(name)),
        };
    }
}
