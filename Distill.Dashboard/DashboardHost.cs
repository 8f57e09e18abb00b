using Distill.Dashboard.Resources;
using Distill.Dashboard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Distill.Dashboard;

/// <summary>
/// The dashboard as its own small web application inside the app host's process: pages and OTLP/HTTP receiver on
/// one loopback address, which is printed at start.
/// </summary>
public sealed class DashboardHost : IAsyncDisposable
{
    private readonly WebApplication app;

    private DashboardHost(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    /// <summary>Where the pages are; with port 0 in the options, the port the system chose.</summary>
    public Uri Url { get; }

    /// <summary>What to give the services as OTEL_EXPORTER_OTLP_ENDPOINT (with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf).</summary>
    public string OtlpEndpoint => Url.GetLeftPart(UriPartial.Authority);

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
        builder.WebHost.UseUrls(options.Url);
        builder.Services.AddDistillDashboard(configure);
        if (resources is not null) builder.Services.AddSingleton(resources);

        var app = builder.Build();
        app.MapDistillDashboard();
        await app.StartAsync(cancellationToken);

        // The addresses Kestrel bound, with the real port where the options asked for port 0.
        var url = new Uri(app.Urls.First());
        Console.WriteLine($"Distill dashboard: {url} (OTLP/HTTP receiver at {url.GetLeftPart(UriPartial.Authority)}/v1/{{traces,metrics,logs}})");
        return new DashboardHost(app, url);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
