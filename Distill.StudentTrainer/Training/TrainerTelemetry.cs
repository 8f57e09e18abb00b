using System.Diagnostics;
using System.Diagnostics.Metrics;
using Distill.Core.Runs;

namespace Distill.StudentTrainer.Training;

/// <summary>The trainer's traces (a span per step, with generation, teacher scoring and update below it) and metrics.</summary>
public sealed class TrainerTelemetry : IDisposable
{
    public const string Name = "Distill.Trainer";

    private readonly Meter meter;
    private TrainingStepMetrics? last;

    public TrainerTelemetry(IMeterFactory meters)
    {
        meter = meters.Create(Name);
        Steps = meter.CreateCounter<long>("distill.trainer.steps", description: "Training steps completed.");
        StepDuration = meter.CreateHistogram<double>("distill.trainer.step.duration", "s", "Wall time of one training step.");
        Gauge("distill.trainer.reward", m => m.Reward, "Mean task reward of the step's samples.");
        Gauge("distill.trainer.accuracy", m => m.Accuracy, "Share of the step's samples with the right final answer.");
        Gauge("distill.trainer.kl.mean", m => m.CostMean, "Mean sequence cost C (KL to the teacher).");
        Gauge("distill.trainer.kl.p90", m => m.CostP90, "90th percentile of the sequence cost C.");
        Gauge("distill.trainer.constraint_satisfaction_rate", m => m.ConstraintSatisfactionRate, "Share of samples with C <= d.");
        Gauge("distill.trainer.lambda", m => m.Lambda, "λ: the Lagrange multiplier (lagrangian objectives) or the fixed λ₀ (kl-penalty).");
        Gauge("distill.trainer.violation_rate", m => m.ViolationRate, "Share of samples that broke their budget (the run's scope).");
        Gauge("distill.trainer.equal_reward_group_share", m => m.EqualRewardGroupShare, "Share of groups whose task rewards are all equal.");
        Gauge("distill.trainer.whole_group_violation_share", m => m.WholeGroupViolationShare,
            "Of the violating samples, the share whose whole group violated (where the group mean cancels a flat penalty).");
        Gauge("distill.trainer.split_violation_group_share", m => m.SplitViolationGroupShare, "Share of groups whose samples split across d.");
        Gauge("distill.trainer.gradient_norm", m => m.GradientNorm, "L2 norm of the step's gradient before clipping to --max-grad-norm.");
        Gauge("distill.trainer.entropy", m => m.Entropy, "Mean token entropy of the student.");
        Gauge("distill.trainer.generated_tokens_per_second", m => m.GeneratedTokensPerSecond, "Student generation throughput.");
        Gauge("distill.trainer.teacher.latency", m => m.TeacherLatencyMs, "Teacher scoring latency of the step (ms).");
        Gauge("distill.trainer.teacher.cache_hit_ratio", m => m.CacheHitRatio, "Share of the step's sequences the teacher served from cache.");
    }

    public static readonly ActivitySource Source = new(Name);

    public Counter<long> Steps { get; }

    public Histogram<double> StepDuration { get; }

    public void Record(TrainingStepMetrics metrics)
    {
        last = metrics;
        Steps.Add(1);
        StepDuration.Record(metrics.StepSeconds);
    }

    // A value the step did not measure (sft has no budget) is left out rather than reported as 0.
    private void Gauge(string name, Func<TrainingStepMetrics, double?> value, string description) =>
        meter.CreateObservableGauge(name, () => last is { } m && value(m) is { } v ? [new Measurement<double>(v)] : Array.Empty<Measurement<double>>(),
            description: description);

    public void Dispose() => meter.Dispose();
}
