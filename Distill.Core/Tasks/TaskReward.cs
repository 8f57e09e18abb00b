namespace Distill.Core.Tasks;

/// <summary>
/// Task reward for RL: 1 when the completion's final answer is correct, else 0, plus <see cref="FormatBonus"/> when
/// the completion states a final answer at all (<c>#### x</c> or <c>\boxed{x}</c>), correct or not. The bonus is
/// additive and below 1, so it never outweighs correctness.
/// </summary>
public sealed class TaskReward
{
    public TaskReward(double formatBonus = 0)
    {
        if (!IsValidFormatBonus(formatBonus))
        {
            throw new ArgumentOutOfRangeException(nameof(formatBonus), formatBonus, "The format bonus must be in [0, 1).");
        }

        FormatBonus = formatBonus;
    }

    public double FormatBonus { get; }

    /// <summary>The one rule for b: within [0, 1), so a wrong answer with a marker never earns as much as a right one.</summary>
    public static bool IsValidFormatBonus(double formatBonus) => formatBonus is >= 0 and < 1;

    /// <summary>R + b·[final answer stated], from a completion already graded once.</summary>
    public double Score(CompletionGrade grade) => grade.Reward + (grade.HasFinalAnswer ? FormatBonus : 0.0);
}
