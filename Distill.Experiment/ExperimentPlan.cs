using System.Globalization;
using Distill.Core.Configuration;
using Distill.StudentTrainer.Objectives;

namespace Distill.Experiment;

/// <summary>Which part of the experiment a run belongs to.</summary>
public enum RunGroup
{
    /// <summary>Every objective over the thresholds and seeds.</summary>
    Main,

    /// <summary>One knob of cmdp (n, κ) or lagrangian (λ's learning rate) moved away from its default, at one d and seed.</summary>
    Sensitivity,
}

/// <summary>
/// One training run of the experiment. <see cref="Method"/> names the row of the table (kl-penalty is two methods, one
/// per λ); <see cref="TrainerFlags"/> are the trainer settings that differ from the shared schedule.
/// </summary>
public sealed record PlannedRun(string Name, string Method, string Objective, double Threshold, int Seed, RunGroup Group,
    IReadOnlyDictionary<string, string> TrainerFlags, string? Variant, double LearningRate)
{
    /// <summary>
    /// Whether d enters the objective (the factory says). reward-only, kl-penalty and distill never read d: one run per
    /// seed serves every threshold, its evaluated KLs are compared with each d.
    /// </summary>
    public bool UsesThreshold => TrainingObjectiveFactory.Info(Objective).UsesThreshold;

    /// <summary>sft: it samples nothing in training, so its training metrics hold a loss and no reward, KL or CSR.</summary>
    public bool IsSupervised => TrainingObjectiveFactory.Info(Objective).IsSupervised;
}

public static class ExperimentPlan
{
    private static readonly ObjectiveOptions Defaults = new();

    /// <summary>The default n, κ of cmdp and λ learning rate of lagrangian (the trainer's own), which the sensitivity runs move.</summary>
    public static double DefaultPenalty => Defaults.Penalty;

    public static double DefaultKappa => Defaults.Kappa;

    public static double DefaultLambdaLearningRate => Defaults.LambdaLearningRate;

    /// <summary>The default δ of lagrangian-chance (the trainer's own).</summary>
    public static double DefaultViolationTarget => Defaults.ViolationTarget;

    /// <summary>
    /// Every run, seed by seed, so an experiment stopped early has all methods for the seeds it finished. Sensitivity
    /// runs come last, at the middle threshold and the first seed. Each run trains at its objective's rate
    /// (<c>--method-lrs</c>, else <c>--lr</c>); with <c>--lr-sweep</c> every main run is repeated at each rate as a
    /// method of its own ("cmdp lr=0.0003").
    /// </summary>
    public static IReadOnlyList<PlannedRun> Create(ExperimentOptions options)
    {
        var runs = CreateAtEachObjectivesRate(options).Select(run => WithAdvantage(run, options.Advantage)).ToArray();
        var sweep = options.LearningRateSweepValues;
        if (sweep.Count == 0) return runs;
        return runs.Where(run => run.Group == RunGroup.Main).SelectMany(run => sweep.Select(rate => run with
        {
            Name = $"{run.Name[..run.Name.LastIndexOf("-s", StringComparison.Ordinal)]}-lr{Number(rate)}-s{run.Seed}",
            Method = $"{run.Method} lr={Number(rate)}",
            LearningRate = rate,
        })).ToArray();
    }

    private static List<PlannedRun> CreateAtEachObjectivesRate(ExperimentOptions options)
    {
        PlannedRun Run(string method, string objective, double threshold, int seed, RunGroup group, Dictionary<string, string> flags,
            string? variant = null) => Planned(method, objective, threshold, seed, group, flags, variant, options.LearningRateOf(objective));

        var thresholds = options.ThresholdValues;
        var middle = MiddleThreshold(options);
        var runs = new List<PlannedRun>();
        foreach (var seed in options.SeedValues)
            foreach (var objective in options.ObjectiveNames)
                switch (objective)
                {
                    case TrainingObjectiveFactory.Cmdp:
                        foreach (var form in options.CmdpFormValues)
                            foreach (var d in thresholds)
                                runs.Add(form == CmdpForm.Trajectory
                                    ? Run(objective, objective, d, seed, RunGroup.Main, [])
                                    : Run($"{objective} {KebabCaseEnum.Spelling(form)}", objective, d, seed, RunGroup.Main,
                                        new() { ["CmdpForm"] = KebabCaseEnum.Spelling(form) }, KebabCaseEnum.Spelling(form)));
                        break;
                    case TrainingObjectiveFactory.LagrangianChance:
                        foreach (var delta in options.ViolationTargetValues)
                            foreach (var d in thresholds)
                            {
                                var (method, flags, variant) = ChanceSetting(options, delta);
                                runs.Add(Run(method, objective, d, seed, RunGroup.Main, flags, variant));
                            }
                        break;
                    case var name when TrainingObjectiveFactory.Info(name).UsesThreshold:
                        foreach (var d in thresholds)
                            runs.Add(Run(objective, objective, d, seed, RunGroup.Main, []));
                        break;
                    case TrainingObjectiveFactory.KlPenalty:
                        foreach (var coefficient in options.KlCoefficientValues)
                            runs.Add(Run($"kl-penalty λ={Number(coefficient)}", objective, middle, seed, RunGroup.Main,
                                new() { ["KlCoefficient"] = Number(coefficient) }, $"kl{Number(coefficient)}"));
                        break;
                    case TrainingObjectiveFactory.Distill when options.DistillPerToken:
                        runs.Add(Run(objective, objective, middle, seed, RunGroup.Main, new() { ["DistillPerToken"] = "true" }, "per-token"));
                        break;
                    default:
                        runs.Add(Run(objective, objective, middle, seed, RunGroup.Main, []));
                        break;
                }

        if (options.Sensitivity)
        {
            var seed = options.SeedValues[0];
            if (options.ObjectiveNames.Contains("cmdp"))
            {
                foreach (var n in options.PenaltyValues.Where(n => n != DefaultPenalty))
                    runs.Add(Run("cmdp", "cmdp", middle, seed, RunGroup.Sensitivity, new() { ["Penalty"] = Number(n) }, $"n{Number(n)}"));
                foreach (var kappa in options.KappaValues.Where(k => k != DefaultKappa))
                    runs.Add(Run("cmdp", "cmdp", middle, seed, RunGroup.Sensitivity, new() { ["Kappa"] = Number(kappa) }, $"kappa{Number(kappa)}"));
            }
            if (options.ObjectiveNames.Contains("lagrangian"))
                foreach (var rate in options.LambdaLearningRateValues.Where(r => r != DefaultLambdaLearningRate))
                    runs.Add(Run("lagrangian", "lagrangian", middle, seed, RunGroup.Sensitivity,
                        new() { ["LambdaLearningRate"] = Number(rate) }, $"lambdalr{Number(rate)}"));
        }
        return runs;
    }

    /// <summary>
    /// A sampling run under an advantage mode other than the trainer's default: the mode is passed on and named in the
    /// method and the run ("cmdp-group-reward-batch-penalty-d2.6-s1"). sft has no advantages and stays as it is.
    /// </summary>
    private static PlannedRun WithAdvantage(PlannedRun run, AdvantageMode mode)
    {
        if (mode == ObjectiveOptions.DefaultAdvantage || run.IsSupervised) return run;
        var spelling = KebabCaseEnum.Spelling(mode);
        return run with
        {
            Name = $"{run.Objective}-{spelling}{run.Name[run.Objective.Length..]}",
            Method = $"{run.Method} {spelling}",
            TrainerFlags = new Dictionary<string, string>(run.TrainerFlags) { ["Advantage"] = spelling },
            Variant = run.Variant is null ? spelling : $"{spelling}-{run.Variant}",
        };
    }

    /// <summary>
    /// The row, trainer settings and run-name part of lagrangian-chance at δ: the plain method at the trainer's defaults
    /// (so runs of earlier experiments keep their names), else δ whenever it is swept or moved, and η_λ when moved.
    /// </summary>
    private static (string Method, Dictionary<string, string> Flags, string? Variant) ChanceSetting(ExperimentOptions options, double delta)
    {
        var flags = new Dictionary<string, string>();
        var method = TrainingObjectiveFactory.LagrangianChance;
        var variants = new List<string>();
        if (options.ViolationTargetValues.Count > 1 || delta != DefaultViolationTarget)
        {
            flags["ViolationTarget"] = Number(delta);
            method += $" δ={Number(delta)}";
            variants.Add($"delta{Number(delta)}");
        }
        if (options.ChanceLambdaLearningRate != DefaultLambdaLearningRate)
        {
            flags["LambdaLearningRate"] = Number(options.ChanceLambdaLearningRate);
            method += $" η_λ={Number(options.ChanceLambdaLearningRate)}";
            variants.Add($"lambdalr{Number(options.ChanceLambdaLearningRate)}");
        }
        return (method, flags, variants.Count == 0 ? null : string.Join("-", variants));
    }

    /// <summary>The reference d: d-free objectives train with it in their manifest, and sensitivity runs use it.</summary>
    public static double MiddleThreshold(ExperimentOptions options) =>
        options.ThresholdValues.Order().ElementAt(options.ThresholdValues.Count / 2);

    private static PlannedRun Planned(string method, string objective, double threshold, int seed, RunGroup group,
        Dictionary<string, string> flags, string? variant, double learningRate)
    {
        var name = string.Join("-", new[] { objective, variant, group == RunGroup.Main && TrainingObjectiveFactory.Info(objective).UsesThreshold || group == RunGroup.Sensitivity ? $"d{Number(threshold)}" : null, $"s{seed}" }
            .Where(part => part is not null));
        return new PlannedRun(name, method, objective, threshold, seed, group, flags, variant, learningRate);
    }

    public static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
