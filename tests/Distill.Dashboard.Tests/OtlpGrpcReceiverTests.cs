using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Distill.Dashboard.Otlp.Collector.Trace.V1;
using Distill.Dashboard.Telemetry;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Distill.Dashboard.Tests;

/// <summary>The OTLP/gRPC receiver: what the OpenTelemetry SDK's exporter sends with protocol grpc arrives decoded.</summary>
public sealed class OtlpGrpcReceiverTests : IAsyncLifetime
{
    private const string TelemetryName = "Distill.Dashboard.Tests.GrpcReceiver";
    private DashboardHost dashboard = null!;

    public async Task InitializeAsync() =>
        dashboard = await DashboardHost.StartAsync(o => { o.Url = "http://127.0.0.1:0"; o.OtlpGrpcUrl = "http://127.0.0.1:0"; },
            resources: null, CancellationToken.None);

    public async Task DisposeAsync() => await dashboard.DisposeAsync();

    [Fact]
    public void The_grpc_receiver_listens_on_its_own_port()
    {
        Assert.NotNull(dashboard.OtlpGrpcUrl);
        Assert.NotEqual(0, dashboard.OtlpGrpcUrl!.Port);
        Assert.NotEqual(dashboard.Url.Port, dashboard.OtlpGrpcUrl.Port);
    }

    [Fact]
    public async Task Spans_logs_and_metrics_from_the_OpenTelemetry_grpc_exporter_arrive_decoded()
    {
        string traceId;
        var builder = ExportingHost.CreateBuilder(dashboard.OtlpGrpcUrl!.GetLeftPart(UriPartial.Authority), "grpc", "evaluator", TelemetryName);
        using var activities = new ActivitySource(TelemetryName);
        using var meter = new Meter(TelemetryName);
        using (var host = builder.Build())
        {
            await host.StartAsync();
            var logger = host.Services.GetRequiredService<ILogger<OtlpGrpcReceiverTests>>();
            meter.CreateObservableGauge("distill.csr", () => 0.75);
            using (var evaluate = activities.StartActivity("evaluator.checkpoint", ActivityKind.Internal)!)
            {
                using (activities.StartActivity("teacher score", ActivityKind.Client)) { }
                logger.LogInformation("Checkpoint {Step} evaluated", 20);
                traceId = evaluate.TraceId.ToHexString();
            }
            await host.StopAsync();
        }

        var store = dashboard.Telemetry;
        Assert.Equal(["evaluator.checkpoint", "teacher score"], store.Trace(traceId).Select(s => s.Span.Name));
        Assert.Equal("evaluator", store.Trace(traceId)[0].Span.Source.ServiceName);
        var log = Assert.Single(store.QueryLogs(new LogQuery(TraceId: traceId)));
        Assert.Equal("Checkpoint 20 evaluated", log.Message);
        Assert.Equal(0.75, store.Series("distill.csr").Single().Points[^1].Value);
    }

    [Fact]
    public async Task A_request_that_does_not_translate_is_refused_with_INVALID_ARGUMENT_and_loses_nothing_stored()
    {
        using var http = new HttpClient { BaseAddress = dashboard.OtlpGrpcUrl };

        var (status, _) = await ExportAsync(http, OtlpRequests.Traces("kept", traceIdLength: 16));
        Assert.Equal("0", status);
        var (refused, message) = await ExportAsync(http, OtlpRequests.Traces("refused", traceIdLength: 5));

        Assert.Equal("3", refused); // google.rpc.Code INVALID_ARGUMENT
        Assert.Contains("trace", message, StringComparison.OrdinalIgnoreCase);
        var names = dashboard.Telemetry.Traces(null).SelectMany(t => dashboard.Telemetry.Trace(t.TraceId)).Select(s => s.Span.Name).ToArray();
        Assert.Equal(["kept"], names);
    }

    /// <summary>One unary gRPC call by hand (HTTP/2 without TLS, a length-prefixed message), returning grpc-status and grpc-message.</summary>
    private static async Task<(string? Status, string Message)> ExportAsync(HttpClient http, ExportTraceServiceRequest request)
    {
        var body = request.ToByteArray();
        var frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        using var call = new HttpRequestMessage(HttpMethod.Post, "/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame) { Headers = { ContentType = new MediaTypeHeaderValue("application/grpc") } },
        };
        call.Headers.TryAddWithoutValidation("te", "trailers");
        using var response = await http.SendAsync(call);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsByteArrayAsync();
        // A call refused before any message carries its status in the headers (trailers-only); otherwise in the trailers.
        string? Header(string name) =>
            response.TrailingHeaders.TryGetValues(name, out var values) || response.Headers.TryGetValues(name, out values) ? values.First() : null;
        return (Header("grpc-status"), Uri.UnescapeDataString(Header("grpc-message") ?? ""));
    }
}
