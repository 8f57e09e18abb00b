using Distill.Dashboard.Otlp.Collector.Trace.V1;
using Distill.Dashboard.Otlp.Common.V1;
using Distill.Dashboard.Otlp.Trace.V1;
using Google.Protobuf;
using OtlpResource = Distill.Dashboard.Otlp.Resource.V1.Resource;

namespace Distill.Dashboard.Tests;

/// <summary>OTLP requests built by hand, for the cases an exporter never sends: exact values, malformed ids.</summary>
internal static class OtlpRequests
{
    public static OtlpResource Resource(string serviceName) =>
        new() { Attributes = { new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = serviceName } } } };

    /// <summary>One span of the teacher, 1 s long; a trace id of any length other than 16 bytes is malformed.</summary>
    public static ExportTraceServiceRequest Traces(string spanName, int traceIdLength = 16) => new()
    {
        ResourceSpans =
        {
            new ResourceSpans
            {
                Resource = Resource("teacher"),
                ScopeSpans =
                {
                    new ScopeSpans
                    {
                        Spans =
                        {
                            new Span
                            {
                                TraceId = ByteString.CopyFrom(Enumerable.Repeat((byte)1, traceIdLength).ToArray()),
                                SpanId = ByteString.CopyFrom(Enumerable.Repeat((byte)2, 8).ToArray()),
                                Name = spanName,
                                StartTimeUnixNano = 1_000_000_000,
                                EndTimeUnixNano = 2_000_000_000,
                            },
                        },
                    },
                },
            },
        },
    };
}
