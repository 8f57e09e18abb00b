using Distill.Core.Divergence;
using Microsoft.Extensions.Configuration;

namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// The settings of every objective, one property per command-line flag (named in each comment): their one home, with
/// their defaults. Part of <see cref="Training.TrainerOptions"/>, bound from the same <c>Trainer</c> section (flat keys:
/// <c>Trainer:Threshold</c>), enums in kebab-case. The threshold d has no default on purpose: its scale depends on the
/// teacher–student pair and the estimator, and every run logs the CSR at d.
/// </summary>
public sealed record ObjectiveOptions
{
    /// <summary><c>--threshold</c>: the KL budget d &gt; 0 of the constraint C ≤ d; NaN until given (it is required).</summary>
    public double Threshold { get; init; } = double.NaN;

    /// <summary>Whether <c>--threshold</c> was given.</summary>
    public bool HasThreshold => !double.IsNaN(Threshold);

    /// <summary><c>--penalty</c>: n, the reward −n of a trajectory that breaks its budget (cmdp).</summary>
    public double Penalty { get; init; } = 1.0;

    /// <summary><c>--kappa</c>: κ, the extra penalty per unit of excess cost max(0, C − d) (cmdp); 0 is pure Saute.</summary>
    public double Kappa { get; init; } = 0.1;

    /// <summary><c>--cmdp-form</c>: the trajectory reward, or Saute's per-token form with returns-to-go.</summary>
    public CmdpForm CmdpForm { get; init; } = CmdpForm.Trajectory;

    /// <summary>L of the per-token form's −n/L: the longest completion (<c>--max-new-tokens</c>), so a full-length violation costs n.</summary>
    [ConfigurationKeyName(nameof(Training.TrainerOptions.MaxNewTokens))]
    public int MaxCompletionLength { get; init; } = 48;

    /// <summary><c>--violation-target</c>: δ, the violation rate the chance-constrained Lagrangian steers to.</summary>
    public double ViolationTarget { get; init; } = 0.05;

    /// <summary><c>--chance-cost</c>: the chance form's per-sample cost, [C &gt; d] or max(0, C − d).</summary>
    public ChanceCost ChanceCost { get; init; } = ChanceCost.Indicator;

    /// <summary><c>--format-bonus</c>: b, added to the task reward when a final-answer marker is present.</summary>
    public double FormatBonus { get; init; }

    /// <summary><c>--kl-coef</c>: the fixed λ₀ of kl-penalty.</summary>
    public double KlCoefficient { get; init; } = 0.1;

    /// <summary><c>--lambda-init</c>: λ before the first step (lagrangian, dual ascent).</summary>
    public double LambdaInit { get; init; }

    /// <summary><c>--lambda-lr</c>: η_λ, the dual ascent step size (lagrangian).</summary>
    public double LambdaLearningRate { get; init; } = 0.01;

    /// <summary><c>--lambda-max</c>: λ_max, the upper clip of λ (lagrangian).</summary>
    public double LambdaMax { get; init; } = 10.0;

    /// <summary><c>--lambda-update</c>: dual ascent or PID (lagrangian).</summary>
    public LambdaUpdate LambdaUpdate { get; init; } = LambdaUpdate.DualAscent;

    /// <summary><c>--pid-kp</c>: the proportional gain of the PID update.</summary>
    public double PidKp { get; init; } = 0.1;

    /// <summary><c>--pid-ki</c>: the integral gain of the PID update.</summary>
    public double PidKi { get; init; } = 0.01;

    /// <summary><c>--pid-kd</c>: the derivative gain of the PID update.</summary>
    public double PidKd { get; init; }

    /// <summary>The gains of the PID update.</summary>
    public PidGains Pid => new(PidKp, PidKi, PidKd);

    /// <summary><c>--cost-estimator</c>: k1, k3, top-k exact or exact (the teacher's whole distribution).</summary>
    [ConfigurationKeyName("CostEstimator")]
    public CostEstimator Estimator { get; init; } = CostEstimator.K1;

    /// <summary><c>--top-k</c>: k of the top-k exact estimator.</summary>
    public int TopK { get; init; } = 20;

    /// <summary><c>--cost-aggregation</c>: C as the sum or the mean of c_t.</summary>
    [ConfigurationKeyName("CostAggregation")]
    public CostAggregation Aggregation { get; init; } = CostAggregation.Sum;

    /// <summary>
    /// <c>--budget-scope</c>: where the budget is checked. Sequence ([C &gt; d]) by default, the same test the CSR makes,
    /// so training and evaluation agree; prefix is Saute's, checked after every token (stricter only when costs can be
    /// negative, as k1's can).
    /// </summary>
    [ConfigurationKeyName("BudgetScope")]
    public BudgetScope Scope { get; init; } = BudgetScope.Sequence;

    /// <summary><c>--advantage</c>: group-std, group-mean, batch-std, leave-one-out or group-reward-batch-penalty (docs/method.md).</summary>
    public AdvantageMode Advantage { get; init; } = DefaultAdvantage;

    /// <summary>The default advantage mode; docs/method.md says why.</summary>
    public const AdvantageMode DefaultAdvantage = AdvantageMode.GroupMean;

    /// <summary><c>--distill-per-token</c>: distill with per-token advantages −Σ_{u≥t} c_u instead of one −C per sample.</summary>
    public bool DistillPerToken { get; init; }

    /// <summary><c>--clip-eps</c>: the PPO clip ε in (0, 1); null trains without clipping.</summary>
    public double? ClipEpsilon { get; init; }

    /// <summary>Every problem with these settings, each naming its flag; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Require(bool condition, string flag, string rule, object? value)
        {
            if (!condition)
                problems.Add($"{flag} must be {rule} (got {value}).");
        }
        void RequireDefined<TEnum>(TEnum value, string flag) where TEnum : struct, Enum =>
            Require(Enum.IsDefined(value), flag, $"one of {string.Join("|", Core.Configuration.KebabCaseEnum.Spellings<TEnum>())}", value);

        if (!HasThreshold)
            problems.Add("--threshold is required: the KL budget d of the run (every run reports its CSR at d).");
        else
            Require(double.IsFinite(Threshold) && Threshold > 0, "--threshold", "a finite number > 0", Threshold);
        Require(double.IsFinite(Penalty) && Penalty >= 0, "--penalty", "a finite number >= 0", Penalty);
        Require(double.IsFinite(Kappa) && Kappa >= 0, "--kappa", "a finite number >= 0", Kappa);
        Require(Core.Tasks.TaskReward.IsValidFormatBonus(FormatBonus), "--format-bonus", "within [0, 1), below a right answer's reward", FormatBonus);
        RequireDefined(CmdpForm, "--cmdp-form");
        Require(MaxCompletionLength >= 1, "--max-new-tokens", "at least 1", MaxCompletionLength);
        Require(double.IsFinite(ViolationTarget) && ViolationTarget >= 0 && ViolationTarget < 1, "--violation-target", "within [0, 1)", ViolationTarget);
        RequireDefined(ChanceCost, "--chance-cost");
        Require(double.IsFinite(KlCoefficient) && KlCoefficient >= 0, "--kl-coef", "a finite number >= 0", KlCoefficient);
        Require(double.IsFinite(LambdaLearningRate) && LambdaLearningRate > 0, "--lambda-lr", "a finite number > 0", LambdaLearningRate);
        Require(double.IsFinite(LambdaMax) && LambdaMax > 0, "--lambda-max", "a finite number > 0", LambdaMax);
        Require(double.IsFinite(LambdaInit) && LambdaInit >= 0 && LambdaInit <= LambdaMax, "--lambda-init", $"within [0, --lambda-max = {LambdaMax}]", LambdaInit);
        RequireDefined(LambdaUpdate, "--lambda-update");
        Require(double.IsFinite(PidKp) && PidKp >= 0, "--pid-kp", "a finite number >= 0", PidKp);
        Require(double.IsFinite(PidKi) && PidKi >= 0, "--pid-ki", "a finite number >= 0", PidKi);
        Require(double.IsFinite(PidKd) && PidKd >= 0, "--pid-kd", "a finite number >= 0", PidKd);
        RequireDefined(Estimator, "--cost-estimator");
        Require(Estimator != CostEstimator.TopKExact || TopK >= 1, "--top-k", "at least 1 with --cost-estimator top-k-exact", TopK);
        RequireDefined(Aggregation, "--cost-aggregation");
        RequireDefined(Scope, "--budget-scope");
        RequireDefined(Advantage, "--advantage");
        Require(ClipEpsilon is null || (ClipEpsilon > 0 && ClipEpsilon < 1), "--clip-eps", "within (0, 1)", ClipEpsilon);
        return problems;
    }
}
