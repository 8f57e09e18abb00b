namespace Distill.StudentTrainer.Objectives;

/// <summary>
/// One sampled completion as an objective sees it: the task reward R ∈ {0, 1}, whether a final-answer marker was
/// present (for the format bonus), and its per-token costs c_t to the teacher (one per completion token).
/// </summary>
public sealed record SampleOutcome(double TaskReward, bool HasAnswerMarker, double[] TokenCosts);
