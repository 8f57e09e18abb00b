using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Distill.Experiment;

/// <summary>
/// The real teacher service (torch backend) on a Kestrel port at 127.0.0.1, hosted in the experiment's process: every
/// run scores through HTTP exactly as a deployed trainer does. No Redis: sampled completions almost never repeat, so a
/// cache would only add a moving part.
/// </summary>
public sealed class ExperimentTeacher : IAsyncDisposable
{
    private readonly WebApplication app;

    private ExperimentTeacher(WebApplication app, Uri address) => (this.app, Address) = (app, address);

    public Uri Address { get; }

    public static async Task<ExperimentTeacher> StartAsync(string teacherModel, string device, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Teacher:ModelPath"] = teacherModel,
            ["Teacher:Device"] = device,
            ["Logging:LogLevel:Default"] = "Warning",
            // The readiness probe below meets an Unhealthy check while the model loads, as it should; not news.
            ["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "None",
        });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.AddServiceDefaults();
        builder.AddTeacherService();
        var app = builder.Build();
        app.MapTeacherService();
        await app.StartAsync(cancellationToken);

        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var teacher = new ExperimentTeacher(app, address);
        await teacher.WaitUntilReadyAsync(cancellationToken);
        return teacher;
    }

    // The service answers at once but is Unhealthy until its model has loaded.
    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = Address };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        while (true)
        {
            using var response = await http.GetAsync("/health", timeout.Token);
            if (response.IsSuccessStatusCode) return;
            await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
