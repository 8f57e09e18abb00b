using Distill.Dashboard.Resources;
using Distill.Dashboard.Telemetry;
using Microsoft.AspNetCore.Builder;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Distill.Dashboard;

/// <summary>
/// The dashboard as its own small web application inside the app host's process: pages and OTLP/HTTP receiver on
/// one loopback address, the OTLP/gRPC receiver on another when asked for; both are printed at start.
/// </summary>
public sealed class DashboardHost : IAsyncDisposable
{
    private readonly WebApplication app;

    private DashboardHost(WebApplication app, Uri url, Uri? otlpGrpcUrl)
    {
        this.app = app;
        Url = url;
        OtlpGrpcUrl = otlpGrpcUrl;
    }

    /// <summary>Where the pages are; with port 0 in the options, the port the system chose.</summary>
    public Uri Url { get; }

    /// <summary>What to give the services as OTEL_EXPORTER_OTLP_ENDPOINT (with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf).</summary>
    public string OtlpEndpoint => Url.GetLeftPart(UriPartial.Authority);

    /// <summary>The OTLP/gRPC receiver (OTEL_EXPORTER_OTLP_PROTOCOL=grpc), when the options asked for one.</summary>
    public Uri? OtlpGrpcUrl { get; }

    public TelemetryStore Telemetry => app.Services.GetRequiredService<TelemetryStore>();

    /// <param name="configure">Sets the options; they are validated here and a bad one throws.</param>
    /// <param name="resources">The app host's resources for the Resources page; null shows none.</param>
    public static async Task<DashboardHost> StartAsync(Action<DashboardOptions> configure, IResourceStatusSource? resources,
        CancellationToken cancellationToken)
    {
        var options = new DashboardOptions();
        configure(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(DashboardHost).Assembly.GetName().Name,
        });
        // The app host's console is for its resources' output; the dashboard reports only what goes wrong.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        ListenOptions? pages = null, grpc = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Runs after the options were validated, when the server starts.
            var pagesUrl = new Uri(options.Url);
            pages = Listen(kestrel, pagesUrl, pagesUrl.Scheme == Uri.UriSchemeHttps ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1);
            if (!string.IsNullOrEmpty(options.OtlpGrpcUrl))
                grpc = Listen(kestrel, new Uri(options.OtlpGrpcUrl), HttpProtocols.Http2);
        });
        builder.Services.AddDistillDashboard(configure);
        if (resources is not null) builder.Services.AddSingleton(resources);

        var app = builder.Build();
        app.MapDistillDashboard();
        await app.StartAsync(cancellationToken);

        // The endpoints as bound, with the real port where the options asked for port 0.
        var url = BoundUrl(pages!, new Uri(options.Url));
        var otlpGrpcUrl = grpc is null ? null : BoundUrl(grpc, new Uri(options.OtlpGrpcUrl!));
        Console.WriteLine($"Distill dashboard: {url} (OTLP/HTTP receiver at {url.GetLeftPart(UriPartial.Authority)}/v1/{{traces,metrics,logs}}"
            + (otlpGrpcUrl is null ? ")" : $", OTLP/gRPC at {otlpGrpcUrl.GetLeftPart(UriPartial.Authority)})"));
        return new DashboardHost(app, url, otlpGrpcUrl);
    }

    private static ListenOptions Listen(KestrelServerOptions kestrel, Uri url, HttpProtocols protocols)
    {
        ListenOptions? bound = null;
        void Configure(ListenOptions listen)
        {
            listen.Protocols = protocols;
            if (url.Scheme == Uri.UriSchemeHttps) listen.UseHttps();
            bound = listen;
        }
        var host = url.Host.Trim('[', ']');
        if (host == "localhost") kestrel.Listen(IPAddress.Loopback, url.Port, Configure);
        else if (IPAddress.TryParse(host, out var address)) kestrel.Listen(address, url.Port, Configure);
        else kestrel.ListenAnyIP(url.Port, Configure);
        return bound!;
    }

    private static Uri BoundUrl(ListenOptions listen, Uri asked) =>
        new UriBuilder(asked) { Port = listen.IPEndPoint?.Port ?? asked.Port }.Uri;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
