namespace Distill.StudentTrainer.Objectives;

/// <summary>What an objective made of one sample: its sequence cost C, whether it broke the budget, and R̃.</summary>
public sealed record ShapedSample(double SequenceCost, bool Violated, double ShapedReward);

/// <summary>
/// The training signal of one prompt's group: the shaped samples and each sample's per-token advantages (a
/// sequence-level advantage is repeated over that sample's tokens), ready to pad into the [B, T] loss input.
/// </summary>
public sealed record GroupSignal(IReadOnlyList<ShapedSample> Samples, IReadOnlyList<double[]> TokenAdvantages);
