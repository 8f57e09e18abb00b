using Distill.Dashboard.Telemetry;
using Microsoft.Extensions.Options;

namespace Distill.Dashboard.Tests;

public sealed class TelemetryBoundsTests
{
    private static readonly TelemetrySource Trainer = new("trainer", "trainer-1");

    private static TelemetryStore Store(int spans, int logs, int points) =>
        new(Options.Create(new DashboardOptions { MaxSpans = spans, MaxLogRecords = logs, MaxMetricPoints = points }));

    private static SpanRecord Span(int n) => new(Trainer, "test", $"{n:x32}", $"{n:x16}", null, $"span {n}", SpanKind.Internal,
        DateTimeOffset.UnixEpoch.AddSeconds(n), DateTimeOffset.UnixEpoch.AddSeconds(n + 1), SpanStatus.Unset, null, [], []);

    private static LogEntry Log(int n) => new(Trainer, "test", DateTimeOffset.UnixEpoch.AddSeconds(n), LogSeverity.Information, "Information",
        $"log {n}", null, null, []);

    private static MetricPoint Point(int n) => new(Trainer, "test", "distill.reward", "", "", MetricKind.Gauge,
        DateTimeOffset.UnixEpoch.AddSeconds(n), n, null, []);

    [Fact]
    public void Each_signal_keeps_its_newest_items_up_to_its_own_bound()
    {
        var store = Store(spans: 3, logs: 2, points: 4);

        store.AddSpans([Span(1), Span(2)]);
        store.AddSpans([Span(3), Span(4), Span(5)]);
        store.AddLogs([Log(1), Log(2), Log(3)]);
        store.AddMetricPoints([.. Enumerable.Range(1, 10).Select(Point)]);

        Assert.Equal(["span 3", "span 4", "span 5"], store.Spans.Select(s => s.Name));
        Assert.Equal(["log 2", "log 3"], store.Logs.Select(l => l.Message));
        Assert.Equal([7.0, 8, 9, 10], store.MetricPoints.Select(p => p.Value));
    }

    [Fact]
    public void An_evicted_parent_leaves_its_children_shown_as_roots_of_the_waterfall()
    {
        var store = Store(spans: 2, logs: 1, points: 1);
        var traceId = new string('a', 32);
        SpanRecord Child(string id, string? parent, int second) => Span(second) with { TraceId = traceId, SpanId = id, ParentSpanId = parent };

        store.AddSpans([Child("0000000000000001", null, 1), Child("0000000000000002", "0000000000000001", 2), Child("0000000000000003", "0000000000000002", 3)]);

        Assert.Equal([("0000000000000002", 0), ("0000000000000003", 1)], store.Trace(traceId).Select(s => (s.Span.SpanId, s.Depth)));
    }
}
