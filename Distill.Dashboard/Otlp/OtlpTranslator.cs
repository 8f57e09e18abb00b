using System.Globalization;
using Distill.Dashboard.Otlp.Collector.Logs.V1;
using Distill.Dashboard.Otlp.Collector.Metrics.V1;
using Distill.Dashboard.Otlp.Collector.Trace.V1;
using Distill.Dashboard.Otlp.Common.V1;
using Distill.Dashboard.Telemetry;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OtlpResource = Distill.Dashboard.Otlp.Resource.V1.Resource;
using OtlpSpan = Distill.Dashboard.Otlp.Trace.V1.Span;
using OtlpStatus = Distill.Dashboard.Otlp.Trace.V1.Status;
using OtlpMetric = Distill.Dashboard.Otlp.Metrics.V1.Metric;

namespace Distill.Dashboard.Otlp;

/// <summary>A payload that parses as protobuf but breaks OTLP's rules (an id of the wrong length).</summary>
internal sealed class OtlpFormatException(string message) : Exception(message);

/// <summary>
/// Turns decoded OTLP export requests into the dashboard's records. A whole request is translated before any of it
/// is stored, so one that breaks the rules is rejected whole and stores nothing.
/// </summary>
internal static class OtlpTranslator
{
    private const string UnknownService = "unknown_service";

    public static List<SpanRecord> Spans(ExportTraceServiceRequest request)
    {
        var records = new List<SpanRecord>();
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var source = Source(resourceSpans.Resource);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                string scope = scopeSpans.Scope?.Name ?? "";
                foreach (var span in scopeSpans.Spans)
                {
                    records.Add(new SpanRecord(
                        source,
                        scope,
                        Id(span.TraceId, 16, "trace_id") ?? throw new OtlpFormatException("a span has no trace_id."),
                        Id(span.SpanId, 8, "span_id") ?? throw new OtlpFormatException("a span has no span_id."),
                        Id(span.ParentSpanId, 8, "parent_span_id"),
                        span.Name,
                        (Telemetry.SpanKind)(int)span.Kind,
                        Time(span.StartTimeUnixNano),
                        Time(span.EndTimeUnixNano),
                        span.Status?.Code switch
                        {
                            OtlpStatus.Types.StatusCode.Ok => SpanStatus.Ok,
                            OtlpStatus.Types.StatusCode.Error => SpanStatus.Error,
                            _ => SpanStatus.Unset,
                        },
                        string.IsNullOrEmpty(span.Status?.Message) ? null : span.Status.Message,
                        Attributes(span.Attributes),
                        span.Events.Select(e => new SpanEventRecord(Time(e.TimeUnixNano), e.Name, Attributes(e.Attributes))).ToArray()));
                }
            }
        }
        return records;
    }

    public static List<LogEntry> Logs(ExportLogsServiceRequest request)
    {
        var records = new List<LogEntry>();
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var source = Source(resourceLogs.Resource);
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                string category = scopeLogs.Scope?.Name ?? "";
                foreach (var log in scopeLogs.LogRecords)
                {
                    // The time of the event when the writer knew it, else when the SDK saw it.
                    ulong time = log.TimeUnixNano != 0 ? log.TimeUnixNano : log.ObservedTimeUnixNano;
                    int severity = (int)log.SeverityNumber;
                    records.Add(new LogEntry(
                        source,
                        category,
                        Time(time),
                        severity is >= 1 and <= 24 ? (LogSeverity)((severity - 1) / 4 + 1) : LogSeverity.Unspecified,
                        log.SeverityText,
                        log.Body is null ? log.EventName : Text(log.Body),
                        Id(log.TraceId, 16, "trace_id"),
                        Id(log.SpanId, 8, "span_id"),
                        Attributes(log.Attributes)));
                }
            }
        }
        return records;
    }

    public static List<MetricPoint> MetricPoints(ExportMetricsServiceRequest request)
    {
        var records = new List<MetricPoint>();
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var source = Source(resourceMetrics.Resource);
            foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
            {
                string scope = scopeMetrics.Scope?.Name ?? "";
                foreach (var metric in scopeMetrics.Metrics)
                {
                    MetricPoint Point(MetricKind kind, ulong time, double value, ulong? count, RepeatedField<KeyValue> attributes) =>
                        new(source, scope, metric.Name, metric.Description, metric.Unit, kind, Time(time), value, count, Attributes(attributes));
                    records.AddRange(metric.DataCase switch
                    {
                        OtlpMetric.DataOneofCase.Gauge =>
                            metric.Gauge.DataPoints.Select(p => Point(MetricKind.Gauge, p.TimeUnixNano, Number(p), null, p.Attributes)),
                        OtlpMetric.DataOneofCase.Sum =>
                            metric.Sum.DataPoints.Select(p => Point(MetricKind.Sum, p.TimeUnixNano, Number(p), null, p.Attributes)),
                        OtlpMetric.DataOneofCase.Histogram =>
                            metric.Histogram.DataPoints.Select(p => Point(MetricKind.Histogram, p.TimeUnixNano, Mean(p.Sum, p.Count), p.Count, p.Attributes)),
                        OtlpMetric.DataOneofCase.ExponentialHistogram =>
                            metric.ExponentialHistogram.DataPoints.Select(p => Point(MetricKind.Histogram, p.TimeUnixNano, Mean(p.Sum, p.Count), p.Count, p.Attributes)),
                        _ => [],
                    });
                }
            }
        }
        return records;
    }

    private static double Number(Metrics.V1.NumberDataPoint point) => point.ValueCase switch
    {
        Metrics.V1.NumberDataPoint.ValueOneofCase.AsInt => point.AsInt,
        _ => point.AsDouble,
    };

    private static double Mean(double sum, ulong count) => count == 0 ? 0 : sum / count;

    private static TelemetrySource Source(OtlpResource? resource)
    {
        var attributes = resource?.Attributes ?? [];
        string? Find(string key) => attributes.FirstOrDefault(a => a.Key == key) is { } found ? Text(found.Value) : null;
        return new TelemetrySource(Find("service.name") ?? UnknownService, Find("service.instance.id"));
    }

    private static string? Id(ByteString bytes, int length, string field)
    {
        if (bytes.IsEmpty) return null;
        if (bytes.Length != length) throw new OtlpFormatException($"{field} has {bytes.Length} bytes; OTLP requires {length}.");
        return Convert.ToHexStringLower(bytes.Span);
    }

    private static DateTimeOffset Time(ulong unixNanoseconds) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)(unixNanoseconds / TimeSpan.NanosecondsPerTick));

    private static KeyValuePair<string, string>[] Attributes(RepeatedField<KeyValue> attributes) =>
        attributes.Select(a => KeyValuePair.Create(a.Key, Text(a.Value))).ToArray();

    private static string Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.ArrayValue => "[" + string.Join(", ", value.ArrayValue.Values.Select(Text)) + "]",
        AnyValue.ValueOneofCase.KvlistValue => "{" + string.Join(", ", value.KvlistValue.Values.Select(kv => $"{kv.Key}: {Text(kv.Value)}")) + "}",
        AnyValue.ValueOneofCase.BytesValue => Convert.ToBase64String(value.BytesValue.Span),
        _ => "",
    };
}
