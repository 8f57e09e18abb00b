namespace Distill.AppHost;

public static class DashboardExtensions
{
    /// <summary>
    /// The Aspire dashboard at <paramref name="dashboardUrl"/> (loopback, validated), its OTLP/HTTP receiver and the
    /// resource service on the next two ports, all on 127.0.0.1, whichever way the AppHost was started (dotnet run,
    /// the built dll, a test). Variables the user set win. The dashboard keeps its browser-token login.
    /// </summary>
    public static IDistributedApplicationBuilder UseLoopbackDashboard(this IDistributedApplicationBuilder builder, string dashboardUrl)
    {
        var url = new Uri(dashboardUrl);
        string At(int offset) => $"http://127.0.0.1:{url.Port + offset}";
        Default("ASPNETCORE_URLS", At(0));
        Default("ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL", At(1));
        Default("ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL", At(2));
        return builder;

        void Default(string key, string value)
        {
            if (string.IsNullOrEmpty(builder.Configuration[key])) builder.Configuration[key] = value;
        }
    }
}
