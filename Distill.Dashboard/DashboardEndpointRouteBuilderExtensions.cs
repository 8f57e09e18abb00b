using Distill.Dashboard.Components;
using Distill.Dashboard.Otlp;
using Distill.Dashboard.Reports;
using Distill.Dashboard.Resources;
using Distill.Dashboard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Distill.Dashboard;

public static class DashboardEndpointRouteBuilderExtensions
{
    private const int ConsoleLinesShown = 1000;

    /// <summary>
    /// The OTLP/HTTP receiver (POST /v1/traces, /v1/metrics, /v1/logs), the OTLP/gRPC services (answering on the
    /// HTTP/2 endpoint) and the dashboard's pages.
    /// </summary>
    public static IEndpointRouteBuilder MapDistillDashboard(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOtlpHttp();
        endpoints.MapGrpcService<OtlpTraceGrpcService>();
        endpoints.MapGrpcService<OtlpLogsGrpcService>();
        endpoints.MapGrpcService<OtlpMetricsGrpcService>();

        endpoints.MapGet("/", () => Results.Redirect("/resources"));

        endpoints.MapGet("/resources", (IServiceProvider services) =>
            new RazorComponentResult<ResourcesPage>(new { Source = services.GetService<IResourceStatusSource>() }));

        endpoints.MapGet("/resources/{name}/console", (string name, IServiceProvider services) =>
            services.GetService<IResourceStatusSource>() is { } source && source.Resources.Any(r => r.Name == name)
                ? new RazorComponentResult<ConsolePage>(new { Resource = name, Lines = source.ConsoleLines(name, ConsoleLinesShown) })
                : Results.NotFound());

        endpoints.MapGet("/logs", (TelemetryStore store, string? service, LogSeverity? level, string? text, string? traceId) =>
            new RazorComponentResult<LogsPage>(new
            {
                Services = store.Services(),
                Query = new LogQuery(service, level, text, traceId),
                Entries = store.QueryLogs(new LogQuery(service, level, text, traceId)),
            }));

        endpoints.MapGet("/traces", (TelemetryStore store, string? service) =>
            new RazorComponentResult<TracesPage>(new { Services = store.Services(), Service = service, Traces = store.Traces(service) }));

        endpoints.MapGet("/traces/{traceId}", (TelemetryStore store, string traceId) =>
            store.Trace(traceId.ToLowerInvariant()) is { Count: > 0 } spans
                ? new RazorComponentResult<TracePage>(new { TraceId = traceId.ToLowerInvariant(), Spans = spans })
                : Results.NotFound());

        endpoints.MapGet("/metrics", (TelemetryStore store, string? name, string? service) =>
            new RazorComponentResult<MetricsPage>(new
            {
                Metrics = store.Metrics(),
                Services = store.Services(),
                Selected = name,
                Service = service,
                Series = string.IsNullOrEmpty(name) ? [] : store.Series(name, service),
            }));

        endpoints.MapGet("/reports", (IOptions<DashboardOptions> options) =>
            new RazorComponentResult<ReportsPage>(new
            {
                options.Value.ReportsDirectory,
                Files = ReportFiles.List(options.Value.ReportsDirectory),
            }));

        endpoints.MapGet("/reports/files/{**path}", (string path, IOptions<DashboardOptions> options) =>
            ReportFiles.Serve(options.Value.ReportsDirectory, path));

        return endpoints;
    }
}
