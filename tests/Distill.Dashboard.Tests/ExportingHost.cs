using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Distill.Dashboard.Tests;

/// <summary>
/// A plain host with Aspire's environment contract, exporting traces, metrics and logs with the OpenTelemetry SDK's OTLP
/// exporter the way the services do: the receiver tests check what that exporter really sends.
/// </summary>
internal static class ExportingHost
{
    public static HostApplicationBuilder CreateBuilder(string endpoint, string protocol, string serviceName, string telemetryName,
        string? resourceAttributes = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol,
            ["OTEL_SERVICE_NAME"] = serviceName,
            ["OTEL_RESOURCE_ATTRIBUTES"] = resourceAttributes,
        });
        builder.Logging.AddOpenTelemetry(logging => logging.IncludeFormattedMessage = true);
        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(telemetryName))
            .WithMetrics(metrics => metrics.AddMeter(telemetryName))
            .UseOtlpExporter();
        return builder;
    }
}
