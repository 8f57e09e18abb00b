using Microsoft.Extensions.Options;

namespace Distill.Dashboard.Telemetry;

/// <summary>A trace as the trace list shows it.</summary>
public sealed record TraceSummary(
    string TraceId,
    string RootName,
    TelemetrySource RootSource,
    IReadOnlyList<string> Services,
    int SpanCount,
    bool HasError,
    DateTimeOffset Start,
    TimeSpan Duration);

/// <summary>What the structured logs page filters by; null or empty means any.</summary>
public sealed record LogQuery(string? Service = null, LogSeverity? MinimumSeverity = null, string? Text = null, string? TraceId = null);

/// <summary>A metric the metrics page offers: its name, who reports it, and what it measures.</summary>
public sealed record MetricDescriptor(string Name, string Description, string Unit, MetricKind Kind, IReadOnlyList<string> Services);

/// <summary>The points of one series, oldest first.</summary>
public sealed record MetricSeries(string Key, IReadOnlyList<MetricPoint> Points);

/// <summary>All telemetry received, in memory, each signal bounded on its own (oldest first out).</summary>
public sealed class TelemetryStore(IOptions<DashboardOptions> options)
{
    private readonly BoundedBuffer<SpanRecord> spans = new(options.Value.MaxSpans);
    private readonly BoundedBuffer<LogEntry> logs = new(options.Value.MaxLogRecords);
    private readonly BoundedBuffer<MetricPoint> metrics = new(options.Value.MaxMetricPoints);

    public void AddSpans(IReadOnlyCollection<SpanRecord> batch) => spans.AddRange(batch);

    public void AddLogs(IReadOnlyCollection<LogEntry> batch) => logs.AddRange(batch);

    public void AddMetricPoints(IReadOnlyCollection<MetricPoint> batch) => metrics.AddRange(batch);

    public IReadOnlyList<SpanRecord> Spans => spans.Snapshot();

    public IReadOnlyList<LogEntry> Logs => logs.Snapshot();

    public IReadOnlyList<MetricPoint> MetricPoints => metrics.Snapshot();

    /// <summary>Every service that sent anything, by name.</summary>
    public IReadOnlyList<string> Services() =>
        spans.Snapshot().Select(s => s.Source.ServiceName)
            .Concat(logs.Snapshot().Select(l => l.Source.ServiceName))
            .Concat(metrics.Snapshot().Select(m => m.Source.ServiceName))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The traces, newest first.</summary>
    public IReadOnlyList<TraceSummary> Traces(string? service = null, int max = 200) =>
        spans.Snapshot()
            .GroupBy(s => s.TraceId, StringComparer.Ordinal)
            .Select(Summarize)
            .Where(t => string.IsNullOrEmpty(service) || t.Services.Contains(service, StringComparer.Ordinal))
            .OrderByDescending(t => t.Start)
            .Take(max)
            .ToArray();

    /// <summary>The spans of one trace in waterfall order: each parent before its children, siblings by start.</summary>
    public IReadOnlyList<(SpanRecord Span, int Depth)> Trace(string traceId)
    {
        var traceSpans = spans.Snapshot().Where(s => s.TraceId == traceId).ToArray();
        var ids = traceSpans.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        // A span whose parent never arrived (evicted, or still in its exporter's batch) shows as a root.
        var children = traceSpans.ToLookup(s => s.ParentSpanId is { } parent && ids.Contains(parent) ? parent : null);
        var ordered = new List<(SpanRecord, int)>(traceSpans.Length);
        void Visit(SpanRecord span, int depth)
        {
            ordered.Add((span, depth));
            foreach (var child in children[span.SpanId].OrderBy(c => c.Start)) Visit(child, depth + 1);
        }
        foreach (var root in children[null].OrderBy(s => s.Start)) Visit(root, 0);
        return ordered;
    }

    /// <summary>The log entries that match, newest first.</summary>
    public IReadOnlyList<LogEntry> QueryLogs(LogQuery query, int max = 500) =>
        logs.Snapshot()
            .Where(l => string.IsNullOrEmpty(query.Service) || l.Source.ServiceName == query.Service)
            .Where(l => query.MinimumSeverity is not { } minimum || l.Severity >= minimum)
            .Where(l => string.IsNullOrEmpty(query.TraceId) || string.Equals(l.TraceId, query.TraceId.Trim(), StringComparison.OrdinalIgnoreCase))
            .Where(l => string.IsNullOrEmpty(query.Text) || Mentions(l, query.Text))
            .Reverse()
            .Take(max)
            .ToArray();

    private static bool Mentions(LogEntry entry, string text) =>
        entry.Message.Contains(text, StringComparison.OrdinalIgnoreCase)
        || entry.Category.Contains(text, StringComparison.OrdinalIgnoreCase)
        || entry.Attributes.Any(a => a.Value.Contains(text, StringComparison.OrdinalIgnoreCase));

    /// <summary>The metrics received, by name.</summary>
    public IReadOnlyList<MetricDescriptor> Metrics() =>
        metrics.Snapshot()
            .GroupBy(p => p.Name, StringComparer.Ordinal)
            .Select(g =>
            {
                var last = g.Last();
                var services = g.Select(p => p.Source.ServiceName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                return new MetricDescriptor(g.Key, last.Description, last.Unit, last.Kind, services);
            })
            .OrderBy(d => d.Name, StringComparer.Ordinal)
            .ToArray();

    /// <summary>The series of one metric, each oldest first.</summary>
    public IReadOnlyList<MetricSeries> Series(string metricName, string? service = null) =>
        metrics.Snapshot()
            .Where(p => p.Name == metricName && (string.IsNullOrEmpty(service) || p.Source.ServiceName == service))
            .GroupBy(p => p.SeriesKey, StringComparer.Ordinal)
            .Select(g => new MetricSeries(g.Key, g.OrderBy(p => p.Time).ToArray()))
            .OrderBy(s => s.Key, StringComparer.Ordinal)
            .ToArray();

    private static TraceSummary Summarize(IGrouping<string, SpanRecord> trace)
    {
        var ids = trace.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        var root = trace.Where(s => s.ParentSpanId is null || !ids.Contains(s.ParentSpanId)).MinBy(s => s.Start) ?? trace.First();
        var start = trace.Min(s => s.Start);
        var end = trace.Max(s => s.End);
        var services = trace.Select(s => s.Source.ServiceName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return new TraceSummary(trace.Key, root.Name, root.Source, services, trace.Count(), trace.Any(s => s.Status == SpanStatus.Error), start, end - start);
    }
}
