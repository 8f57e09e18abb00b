using Distill.Dashboard.Otlp.Collector.Logs.V1;
using Distill.Dashboard.Otlp.Collector.Metrics.V1;
using Distill.Dashboard.Otlp.Collector.Trace.V1;
using Distill.Dashboard.Telemetry;
using Grpc.Core;

namespace Distill.Dashboard.Otlp;

// The OTLP/gRPC receiver: what OTEL_EXPORTER_OTLP_PROTOCOL=grpc (the OpenTelemetry .NET default) sends. The same
// translation and store as OTLP/HTTP; a request that does not translate is refused whole with INVALID_ARGUMENT, so
// nothing of it is stored and nothing stored before is touched.

internal sealed class OtlpTraceGrpcService(TelemetryStore store) : TraceService.TraceServiceBase
{
    public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context) =>
        OtlpGrpc.Receive(() => store.AddSpans(OtlpTranslator.Spans(request)), new ExportTraceServiceResponse());
}

internal sealed class OtlpLogsGrpcService(TelemetryStore store) : LogsService.LogsServiceBase
{
    public override Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context) =>
        OtlpGrpc.Receive(() => store.AddLogs(OtlpTranslator.Logs(request)), new ExportLogsServiceResponse());
}

internal sealed class OtlpMetricsGrpcService(TelemetryStore store) : MetricsService.MetricsServiceBase
{
    public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context) =>
        OtlpGrpc.Receive(() => store.AddMetricPoints(OtlpTranslator.MetricPoints(request)), new ExportMetricsServiceResponse());
}

internal static class OtlpGrpc
{
    public static Task<TResponse> Receive<TResponse>(Action store, TResponse response)
    {
        try
        {
            store();
        }
        catch (OtlpFormatException error)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, error.Message));
        }
        return Task.FromResult(response);
    }
}
