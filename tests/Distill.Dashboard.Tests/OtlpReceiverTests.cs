using System.Diagnostics;
using System.Diagnostics.Metrics;
using Distill.Dashboard.Otlp.Collector.Metrics.V1;
using Distill.Dashboard.Otlp.Metrics.V1;
using Distill.Dashboard.Telemetry;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using AggregationTemporality = Distill.Dashboard.Otlp.Metrics.V1.AggregationTemporality;
using Metric = Distill.Dashboard.Otlp.Metrics.V1.Metric;
using SpanKind = Distill.Dashboard.Telemetry.SpanKind;

namespace Distill.Dashboard.Tests;

/// <summary>What the OpenTelemetry SDK's own OTLP exporter sends (http/protobuf) arrives decoded.</summary>
public sealed class OtlpReceiverTests
{
    private const string TelemetryName = "Distill.Dashboard.Tests.Receiver";

    [Fact]
    public async Task Spans_logs_and_metrics_from_the_OpenTelemetry_exporter_arrive_decoded()
    {
        await using var dashboard = await DashboardHost.StartAsync(o => o.Url = "http://127.0.0.1:0", resources: null, CancellationToken.None);
        var instanceId = $"trainer-{Guid.NewGuid():N}";
        string traceId, stepSpanId;

        var builder = ExportingHost.CreateBuilder(dashboard.OtlpEndpoint, "http/protobuf", "trainer", TelemetryName,
            resourceAttributes: $"service.instance.id={instanceId}");
        // Outlive the host: a meter disposed before the provider's final collection would take its instruments along.
        using var activities = new ActivitySource(TelemetryName);
        using var meter = new Meter(TelemetryName);
        using (var host = builder.Build())
        {
            await host.StartAsync();
            var logger = host.Services.GetRequiredService<ILogger<OtlpReceiverTests>>();
            meter.CreateObservableGauge("distill.lambda", () => 0.25, unit: "1", description: "Constraint multiplier λ");
            var tokens = meter.CreateCounter<long>("distill.tokens", unit: "{token}");
            var kl = meter.CreateHistogram<double>("distill.kl", unit: "nat");

            using (var step = activities.StartActivity("trainer step", ActivityKind.Internal)!)
            {
                step.SetTag("distill.step", 7);
                using (var score = activities.StartActivity("teacher score", ActivityKind.Client)!)
                    score.SetStatus(ActivityStatusCode.Error, "teacher timed out");
                logger.LogWarning("Step {Step} KL {Kl}", 7, 0.5);
                traceId = step.TraceId.ToHexString();
                stepSpanId = step.SpanId.ToHexString();
            }
            tokens.Add(1200, new KeyValuePair<string, object?>("phase", "train"));
            foreach (var value in new[] { 0.25, 0.5, 1.5 })
                kl.Record(value);
            await host.StopAsync();
        }
        // Disposing the host disposed the providers, and each flushed what it held to the receiver.

        var store = dashboard.Telemetry;
        var spans = store.Trace(traceId);
        Assert.Equal(["trainer step", "teacher score"], spans.Select(s => s.Span.Name));
        var (step7, score7) = (spans[0].Span, spans[1].Span);
        Assert.Equal(new TelemetrySource("trainer", instanceId), step7.Source);
        Assert.Equal(TelemetryName, step7.Scope);
        Assert.Equal(stepSpanId, step7.SpanId);
        Assert.Null(step7.ParentSpanId);
        Assert.Contains(KeyValuePair.Create("distill.step", "7"), step7.Attributes);
        Assert.Equal(stepSpanId, score7.ParentSpanId);
        Assert.Equal((SpanKind.Client, SpanStatus.Error, "teacher timed out"), (score7.Kind, score7.Status, score7.StatusMessage));
        Assert.True(step7.Start <= score7.Start && score7.End <= step7.End && step7.Duration > TimeSpan.Zero);
        Assert.InRange(step7.Start, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);

        var log = Assert.Single(store.QueryLogs(new LogQuery(TraceId: traceId)));
        Assert.Equal(("Step 7 KL 0.5", LogSeverity.Warning, stepSpanId), (log.Message, log.Severity, log.SpanId));
        Assert.Equal(typeof(OtlpReceiverTests).FullName, log.Category);
        Assert.Contains(KeyValuePair.Create("Step", "7"), log.Attributes);

        var lambda = store.Series("distill.lambda").Single().Points[^1];
        Assert.Equal((MetricKind.Gauge, 0.25, "1", "Constraint multiplier λ", "trainer"),
            (lambda.Kind, lambda.Value, lambda.Unit, lambda.Description, lambda.Source.ServiceName));
        var tokenSeries = store.Series("distill.tokens").Single();
        Assert.Equal("trainer {phase=train}", tokenSeries.Key);
        Assert.Equal((MetricKind.Sum, 1200.0), (tokenSeries.Points[^1].Kind, tokenSeries.Points[^1].Value));
        var klPoint = store.Series("distill.kl").Single().Points[^1];
        Assert.Equal((MetricKind.Histogram, 0.75, 3UL, "nat"), (klPoint.Kind, klPoint.Value, klPoint.Count, klPoint.Unit));
    }

    [Fact]
    public async Task Histograms_arrive_as_their_mean_per_export_with_the_count_beside_it()
    {
        await using var dashboard = await DashboardHost.StartAsync(o => o.Url = "http://127.0.0.1:0", resources: null, CancellationToken.None);
        var request = new ExportMetricsServiceRequest
        {
            ResourceMetrics =
            {
                new ResourceMetrics
                {
                    Resource = OtlpRequests.Resource("trainer"),
                    ScopeMetrics =
                    {
                        new ScopeMetrics
                        {
                            Metrics =
                            {
                                new Metric
                                {
                                    Name = "distill.kl",
                                    Unit = "nat",
                                    Histogram = new Histogram
                                    {
                                        AggregationTemporality = AggregationTemporality.Cumulative,
                                        DataPoints =
                                        {
                                            new HistogramDataPoint
                                            {
                                                TimeUnixNano = 1_700_000_000_000_000_000, Count = 4, Sum = 2.0,
                                                ExplicitBounds = { 0.5, 1 }, BucketCounts = { 2, 1, 1 },
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        };
        using var http = new HttpClient();
        using var body = new ByteArrayContent(request.ToByteArray());
        body.Headers.ContentType = new("application/x-protobuf");
        (await http.PostAsync(new Uri(dashboard.Url, "/v1/metrics"), body)).EnsureSuccessStatusCode();

        var point = Assert.Single(dashboard.Telemetry.MetricPoints);
        Assert.Equal(("distill.kl", MetricKind.Histogram, 0.5, 4UL, "nat", DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)),
            (point.Name, point.Kind, point.Value, point.Count, point.Unit, point.Time));
    }
}
