using System.Diagnostics.Metrics;

namespace Distill.Evaluator.Evaluation;

/// <summary>
/// The evaluator's metrics, for the Aspire dashboard's Metrics page: the last evaluation's accuracy, CSR and KL (tagged
/// with its run and step), and how long evaluations take.
/// </summary>
public sealed class EvaluatorTelemetry : IDisposable
{
    public const string Name = "Distill.Evaluator";

    private readonly Meter meter;
    private CheckpointEvaluation? last;

    public EvaluatorTelemetry(IMeterFactory meters)
    {
        meter = meters.Create(Name);
        Evaluations = meter.CreateCounter<long>("distill.evaluator.evaluations", "{evaluation}", "Checkpoints evaluated.");
        Duration = meter.CreateHistogram<double>("distill.evaluator.evaluation.duration", "s", "Wall time of one checkpoint's evaluation.");
        Gauge("distill.evaluator.accuracy", e => e.Metrics.GreedyAccuracy, "Greedy accuracy on the held-out set.");
        Gauge("distill.evaluator.pass_at_1", e => e.Metrics.SampledPassAt1, "Sampled pass@1 on the held-out set.");
        Gauge("distill.evaluator.constraint_satisfaction_rate", e => e.Metrics.SatisfactionRate, "Share of held-out samples with C <= d.");
        Gauge("distill.evaluator.kl.mean", e => e.Metrics.CostMean, "Mean sequence KL of the held-out samples.");
        Gauge("distill.evaluator.kl.p90", e => e.Metrics.CostP90, "90th percentile of the held-out samples' sequence KL.");
    }

    public Counter<long> Evaluations { get; }

    public Histogram<double> Duration { get; }

    public void Record(CheckpointEvaluation evaluation, double seconds)
    {
        last = evaluation;
        Evaluations.Add(1);
        Duration.Record(seconds);
    }

    private void Gauge(string name, Func<CheckpointEvaluation, double> value, string description) =>
        meter.CreateObservableGauge(name, () => last is { } e
                ? [new Measurement<double>(value(e), new KeyValuePair<string, object?>("run", e.RunId), new KeyValuePair<string, object?>("step", e.Step))]
                : Array.Empty<Measurement<double>>(),
            description: description);

    public void Dispose() => meter.Dispose();
}
