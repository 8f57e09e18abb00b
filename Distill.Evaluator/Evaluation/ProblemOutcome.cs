namespace Distill.Evaluator.Evaluation;

/// <summary>
/// One sampled completion: whether its answer is right, its length, its sequence cost C to the teacher, and whether it
/// kept its budget under the run's scope (for sequence scope, C ≤ d).
/// </summary>
public sealed record SampledCompletion(bool IsCorrect, int ResponseTokens, double SequenceCost, bool WithinBudget);

/// <summary>One held-out problem: the greedy completion's correctness and length, and the n sampled completions.</summary>
public sealed record ProblemOutcome(bool GreedyIsCorrect, int GreedyResponseTokens, IReadOnlyList<SampledCompletion> Samples);
