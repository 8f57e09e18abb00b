using Distill.Dashboard.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.Dashboard;

public static class DashboardServiceCollectionExtensions
{
    /// <summary>
    /// The dashboard's services: validated options, the telemetry store, server-side rendering of its pages and gRPC.
    /// The Resources page shows what an <see cref="Resources.IResourceStatusSource"/> registered beside it reports.
    /// </summary>
    public static IServiceCollection AddDistillDashboard(this IServiceCollection services, Action<DashboardOptions>? configure = null)
    {
        services.AddOptions<DashboardOptions>()
            .Configure(options => configure?.Invoke(options))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<TelemetryStore>();
        services.AddRazorComponents();
        services.AddGrpc();
        return services;
    }
}
