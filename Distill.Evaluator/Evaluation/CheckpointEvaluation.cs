using Distill.Core.Divergence;

namespace Distill.Evaluator.Evaluation;

/// <summary>
/// Everything measured on one checkpoint: written as <c>evaluation.json</c> into the run's
/// <c>evaluations/step-NNNNNN/</c> and served by <c>GET /v1/evaluations/{run}/{step}</c>.
/// </summary>
public sealed record CheckpointEvaluation(
    string RunId,
    int Step,
    string CheckpointPath,
    ConstraintSettings Constraint,
    HeldOutSettings HeldOut,
    EvaluationMetrics Metrics,
    IReadOnlyList<double> SequenceCosts,
    DateTimeOffset EvaluatedAt,
    double Seconds,
    IReadOnlyList<SubsetMetrics>? Subsets = null);

/// <summary>The metrics of one part of the held-out set (the teacher's blind-spot family, or the rest).</summary>
public sealed record SubsetMetrics(string Name, int Problems, EvaluationMetrics Metrics);

/// <summary>
/// The constraint the CSR is measured against: the run's d, aggregation and budget scope (from its <c>run.json</c>, or
/// the flags that override them), and the estimator the costs were computed with (with its k for top-k exact).
/// </summary>
public sealed record ConstraintSettings(string Objective, double Threshold, CostEstimator Estimator, CostAggregation Aggregation,
    BudgetScope Scope = BudgetScope.Sequence, int TopK = 0);

/// <summary>What was generated: which held-out set, how many problems and samples, how they were sampled.</summary>
public sealed record HeldOutSettings(string Dataset, int Problems, int SamplesPerProblem, double Temperature, int MaxNewTokens, int Seed);

/// <summary>
/// The answers to "did distillation work, and did it keep the student within budget?". Costs and satisfaction rates are
/// over the sampled completions (the policy's own distribution, the one the constraint is about); greedy decoding gives
/// the headline accuracy.
/// </summary>
public sealed record EvaluationMetrics(
    double GreedyAccuracy,
    double SampledPassAt1,
    double? TeacherAccuracy,
    double CostMean,
    double CostP50,
    double CostP90,
    double CostMax,
    double SatisfactionRate,
    IReadOnlyList<ThresholdSatisfaction> SatisfactionSweep,
    double MeanResponseTokens,
    long GeneratedTokens,
    // The 95 % percentile-bootstrap interval of the CSR at d, resampling problems (their samples are not independent).
    double SatisfactionRateLow = 0,
    double SatisfactionRateHigh = 0);

/// <summary>A checkpoint that could not be evaluated, written as <c>failure.json</c> so it is reported once, not retried forever.</summary>
public sealed record EvaluationFailure(string RunId, int Step, string CheckpointPath, string Error, DateTimeOffset FailedAt);
