namespace Distill.Dashboard.Telemetry;

/// <summary>The resource a piece of telemetry came from: OTEL_SERVICE_NAME and the instance id the app host set.</summary>
public sealed record TelemetrySource(string ServiceName, string? InstanceId)
{
    public override string ToString() => ServiceName;
}

public enum SpanKind { Unspecified, Internal, Server, Client, Producer, Consumer }

public enum SpanStatus { Unset, Ok, Error }

/// <summary>One finished span. Ids are lower-case hex, as W3C trace context writes them.</summary>
public sealed record SpanRecord(
    TelemetrySource Source,
    string Scope,
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    SpanKind Kind,
    DateTimeOffset Start,
    DateTimeOffset End,
    SpanStatus Status,
    string? StatusMessage,
    IReadOnlyList<KeyValuePair<string, string>> Attributes,
    IReadOnlyList<SpanEventRecord> Events)
{
    public TimeSpan Duration => End - Start;
}

public sealed record SpanEventRecord(DateTimeOffset Time, string Name, IReadOnlyList<KeyValuePair<string, string>> Attributes);

/// <summary>Log levels as OTLP groups its severity numbers (1-4 trace, 5-8 debug, ... 21-24 fatal).</summary>
public enum LogSeverity { Unspecified, Trace, Debug, Information, Warning, Error, Critical }

public sealed record LogEntry(
    TelemetrySource Source,
    string Category,
    DateTimeOffset Timestamp,
    LogSeverity Severity,
    string SeverityText,
    string Message,
    string? TraceId,
    string? SpanId,
    IReadOnlyList<KeyValuePair<string, string>> Attributes);

public enum MetricKind { Gauge, Sum, Histogram }

/// <summary>
/// One data point of one metric series. Gauges and sums carry their value; histograms carry their mean (sum over
/// count) with the count beside it, since a chart over time needs one number.
/// </summary>
public sealed record MetricPoint(
    TelemetrySource Source,
    string Scope,
    string Name,
    string Description,
    string Unit,
    MetricKind Kind,
    DateTimeOffset Time,
    double Value,
    ulong? Count,
    IReadOnlyList<KeyValuePair<string, string>> Attributes)
{
    /// <summary>The series the point belongs to: its resource and its attribute set.</summary>
    public string SeriesKey => Attributes.Count == 0
        ? Source.ServiceName
        : $"{Source.ServiceName} {{{string.Join(", ", Attributes.Select(a => $"{a.Key}={a.Value}"))}}}";
}
