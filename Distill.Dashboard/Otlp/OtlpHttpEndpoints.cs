using System.IO.Compression;
using Distill.Dashboard.Otlp.Collector.Logs.V1;
using Distill.Dashboard.Otlp.Collector.Metrics.V1;
using Distill.Dashboard.Otlp.Collector.Trace.V1;
using Distill.Dashboard.Telemetry;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RpcStatus = Distill.Dashboard.Otlp.Rpc.Status;

namespace Distill.Dashboard.Otlp;

/// <summary>The OTLP/HTTP receiver with binary protobuf bodies: what OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf sends.</summary>
internal static class OtlpHttpEndpoints
{
    private const string ProtobufContentType = "application/x-protobuf";

    // google.rpc.Code values OTLP/HTTP puts in the Status body of an error response.
    private const int InvalidArgument = 3;
    private const int Unimplemented = 12;

    public static void MapOtlpHttp(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/traces", (HttpContext context, TelemetryStore store) =>
            ReceiveAsync(context, ExportTraceServiceRequest.Parser, request => store.AddSpans(OtlpTranslator.Spans(request)),
                new ExportTraceServiceResponse()));
        endpoints.MapPost("/v1/logs", (HttpContext context, TelemetryStore store) =>
            ReceiveAsync(context, ExportLogsServiceRequest.Parser, request => store.AddLogs(OtlpTranslator.Logs(request)),
                new ExportLogsServiceResponse()));
        endpoints.MapPost("/v1/metrics", (HttpContext context, TelemetryStore store) =>
            ReceiveAsync(context, ExportMetricsServiceRequest.Parser, request => store.AddMetricPoints(OtlpTranslator.MetricPoints(request)),
                new ExportMetricsServiceResponse()));
    }

    private static async Task ReceiveAsync<TRequest>(HttpContext context, MessageParser<TRequest> parser, Action<TRequest> store,
        IMessage response) where TRequest : IMessage<TRequest>
    {
        if (!IsProtobuf(context.Request.ContentType))
        {
            await WriteAsync(context, StatusCodes.Status415UnsupportedMediaType,
                new RpcStatus { Code = Unimplemented, Message = $"only {ProtobufContentType} bodies are accepted." });
            return;
        }

        TRequest request;
        try
        {
            request = parser.ParseFrom(await ReadBodyAsync(context.Request));
            // Translation checks what protobuf cannot (id lengths); it runs inside store before anything is added.
            store(request);
        }
        catch (Exception error) when (error is InvalidProtocolBufferException or OtlpFormatException or InvalidDataException)
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, new RpcStatus { Code = InvalidArgument, Message = error.Message });
            return;
        }
        await WriteAsync(context, StatusCodes.Status200OK, response);
    }

    private static bool IsProtobuf(string? contentType) =>
        contentType is not null && contentType.Split(';')[0].Trim().Equals(ProtobufContentType, StringComparison.OrdinalIgnoreCase);

    /// <summary>The body, unzipped when the exporter compressed it (OTLP/HTTP allows gzip).</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        if (string.Equals(request.Headers.ContentEncoding, "gzip", StringComparison.OrdinalIgnoreCase))
        {
            await using var gzip = new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
            await gzip.CopyToAsync(body, request.HttpContext.RequestAborted);
        }
        else
        {
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        }
        return body.ToArray();
    }

    private static async Task WriteAsync(HttpContext context, int statusCode, IMessage message)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = ProtobufContentType;
        await context.Response.Body.WriteAsync(message.ToByteArray(), context.RequestAborted);
    }
}
