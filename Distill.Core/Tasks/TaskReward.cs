namespace Distill.Core.Tasks;

/// <summary>
/// Task reward for RL: 1 when the completion's final answer is correct, else 0, plus <see cref="FormatBonus"/> when
/// the completion states a final answer at all (<c>#### x</c> or <c>\boxed{x}</c>), correct or not. The bonus is
/// additive so it never outweighs correctness when kept below 1.
/// </summary>
public sealed class TaskReward
{
    public TaskReward(double formatBonus = 0)
    {
        if (!(formatBonus is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(formatBonus), formatBonus, "The format bonus must be in [0, 1).");
        }

        FormatBonus = formatBonus;
    }

    public double FormatBonus { get; }

    public double Score(string completion, string referenceAnswer)
    {
        var correct = AnswerChecker.IsCorrect(completion, referenceAnswer) ? 1.0 : 0.0;
        var bonus = FormatBonus > 0 && AnswerChecker.HasFinalAnswerMarker(completion) ? FormatBonus : 0.0;
        return correct + bonus;
    }
}
