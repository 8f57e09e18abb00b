namespace Distill.StudentTrainer.Objectives;

/// <summary>Which form of the Saute reshaping <c>cmdp</c> trains with (<c>--cmdp-form</c>).</summary>
[System.ComponentModel.TypeConverter(typeof(Distill.Core.Configuration.KebabCaseEnumConverter))]
public enum CmdpForm
{
    /// <summary>One reward per trajectory: R (+ b) within budget, −n − κ·max(0, C − d) otherwise.</summary>
    Trajectory,

    /// <summary>Saute as published: −n/L on every token from the budget crossing on, R (+ b) on the last token if safe.</summary>
    PerToken,
}

/// <summary>
/// <c>cmdp</c>, the method: Saute reshaping without state augmentation. The budget z_t = d − Σ_{u&lt;t} c_u is a function of
/// the prefix, so the policy needs no budget input and no teacher at deployment; there is no multiplier to tune.
/// </summary>
public sealed class CmdpObjective(ObjectiveOptions options) : ShapedRewardObjective(TrainingObjectiveFactory.Cmdp, options)
{
    protected override double ShapedReward(SampleOutcome sample, double sequenceCost, bool violated) =>
        violated
            ? -Options.Penalty - Options.Kappa * Math.Max(0.0, sequenceCost - Options.Threshold)
            : TaskReward(sample);

    protected override ShapedSample Shape(SampleOutcome sample)
    {
        if (Options.CmdpForm == CmdpForm.Trajectory)
            return base.Shape(sample);

        var cost = Budget.SequenceCost(sample.TokenCosts);
        var violated = Budget.IsViolated(sample.TokenCosts);
        var length = sample.TokenCosts.Length;
        var rewards = new double[length];
        if (violated)
        {
            // The crossing t*: the first token after which the budget is negative. Under sequence scope a violated
            // trajectory's budget ends negative, so a crossing exists there too.
            var budgets = Budget.Remaining(sample.TokenCosts);
            var crossing = Array.FindIndex(budgets, 1, budget => budget < 0) - 1;
            var perToken = -Options.Penalty / Options.MaxCompletionLength;
            for (var t = crossing; t < length; t++)
                rewards[t] = perToken;
        }
        else if (length > 0)
        {
            rewards[length - 1] = TaskReward(sample);
        }
        return ShapedSample.PerToken(cost, violated, rewards, TaskReward(sample));
    }
}
