using Distill.Core.Divergence;

namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// The settings of every objective, one property per command-line flag (named in each comment). The threshold d has
/// no default on purpose: its scale depends on the teacher–student pair and the estimator, and every run logs the CSR at d.
/// </summary>
public sealed record ObjectiveOptions
{
    /// <summary><c>--threshold</c>: the KL budget d &gt; 0 of the constraint C ≤ d.</summary>
    public required double Threshold { get; init; }

    /// <summary><c>--penalty</c>: n, the reward −n of a trajectory that breaks its budget (cmdp).</summary>
    public double Penalty { get; init; } = 1.0;

    /// <summary><c>--kappa</c>: κ, the extra penalty per unit of excess cost max(0, C − d) (cmdp); 0 is pure Saute.</summary>
    public double Kappa { get; init; } = 0.1;

    /// <summary><c>--cmdp-form</c>: the trajectory reward, or Saute's per-token form with returns-to-go.</summary>
    public CmdpForm CmdpForm { get; init; } = CmdpForm.Trajectory;

    /// <summary>L of the per-token form's −n/L: the longest completion (<c>--max-new-tokens</c>), so a full-length violation costs n.</summary>
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

    /// <summary><c>--pid-kp</c>, <c>--pid-ki</c>, <c>--pid-kd</c>: gains of the PID update.</summary>
    public PidGains Pid { get; init; } = new(Proportional: 0.1, Integral: 0.01, Derivative: 0.0);

    /// <summary><c>--cost-estimator</c>: k1, k3, top-k exact or exact (the teacher's whole distribution).</summary>
    public CostEstimator Estimator { get; init; } = CostEstimator.K1;

    /// <summary><c>--top-k</c>: k of the top-k exact estimator.</summary>
    public int TopK { get; init; } = 20;

    /// <summary><c>--cost-aggregation</c>: C as the sum or the mean of c_t.</summary>
    public CostAggregation Aggregation { get; init; } = CostAggregation.Sum;

    /// <summary>
    /// <c>--budget-scope</c>: where the budget is checked. Sequence ([C &gt; d]) by default, the same test the CSR makes,
    /// so training and evaluation agree; prefix is Saute's, checked after every token (stricter only when costs can be
    /// negative, as k1's can).
    /// </summary>
    public BudgetScope Scope { get; init; } = BudgetScope.Sequence;

    /// <summary><c>--advantage</c>: group-std, group-mean, batch-std or leave-one-out (docs/method.md).</summary>
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

        Require(double.IsFinite(Threshold) && Threshold > 0, "--threshold", "a finite number > 0", Threshold);
        Require(double.IsFinite(Penalty) && Penalty >= 0, "--penalty", "a finite number >= 0", Penalty);
        Require(double.IsFinite(Kappa) && Kappa >= 0, "--kappa", "a finite number >= 0", Kappa);
        Require(Core.Tasks.TaskReward.IsValidFormatBonus(FormatBonus), "--format-bonus", "within [0, 1), below a right answer's reward", FormatBonus);
        Require(Enum.IsDefined(CmdpForm), "--cmdp-form", "trajectory or per-token", CmdpForm);
        Require(MaxCompletionLength >= 1, "--max-new-tokens", "at least 1", MaxCompletionLength);
        Require(double.IsFinite(ViolationTarget) && ViolationTarget >= 0 && ViolationTarget < 1, "--violation-target", "within [0, 1)", ViolationTarget);
        Require(Enum.IsDefined(ChanceCost), "--chance-cost", "indicator or hinge", ChanceCost);
        Require(double.IsFinite(KlCoefficient) && KlCoefficient >= 0, "--kl-coef", "a finite number >= 0", KlCoefficient);
        Require(double.IsFinite(LambdaLearningRate) && LambdaLearningRate > 0, "--lambda-lr", "a finite number > 0", LambdaLearningRate);
        Require(double.IsFinite(LambdaMax) && LambdaMax > 0, "--lambda-max", "a finite number > 0", LambdaMax);
        Require(double.IsFinite(LambdaInit) && LambdaInit >= 0 && LambdaInit <= LambdaMax, "--lambda-init", $"within [0, --lambda-max = {LambdaMax}]", LambdaInit);
        Require(Enum.IsDefined(LambdaUpdate), "--lambda-update", "dual-ascent or pid", LambdaUpdate);
        Require(double.IsFinite(Pid.Proportional) && Pid.Proportional >= 0, "--pid-kp", "a finite number >= 0", Pid.Proportional);
        Require(double.IsFinite(Pid.Integral) && Pid.Integral >= 0, "--pid-ki", "a finite number >= 0", Pid.Integral);
        Require(double.IsFinite(Pid.Derivative) && Pid.Derivative >= 0, "--pid-kd", "a finite number >= 0", Pid.Derivative);
        Require(Enum.IsDefined(Estimator), "--cost-estimator", "k1, k3, top-k-exact or exact", Estimator);
        Require(Estimator != CostEstimator.TopKExact || TopK >= 1, "--top-k", "at least 1 with --cost-estimator top-k-exact", TopK);
        Require(Enum.IsDefined(Aggregation), "--cost-aggregation", "sum or mean", Aggregation);
        Require(Enum.IsDefined(Scope), "--budget-scope", "sequence or prefix", Scope);
        Require(Enum.IsDefined(Advantage), "--advantage", "group-std, group-mean, batch-std or leave-one-out", Advantage);
        Require(ClipEpsilon is null || (ClipEpsilon > 0 && ClipEpsilon < 1), "--clip-eps", "within (0, 1)", ClipEpsilon);
        return problems;
    }
}
