using Distill.Core.Contracts;
using Distill.TeacherService;
using System.Diagnostics.Metrics;
using System.Net;
using Distill.TeacherService.Backends;
using Distill.TeacherService.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.Testing;

/// <summary>The teacher service on a real Kestrel socket at 127.0.0.1 (not the in-memory TestServer).</summary>
// Any type of the service's assembly names its entry point; Program is ambiguous beside the trainer's.
public sealed class TeacherHost : WebApplicationFactory<TeacherTelemetry>
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Task? _loadingGate;
    private readonly Action<IServiceCollection>? _services;

    private TeacherHost(IReadOnlyDictionary<string, string?> settings, Task? loadingGate, Action<IServiceCollection>? services)
    {
        _settings = settings;
        _loadingGate = loadingGate;
        _services = services;
    }

    /// <summary>
    /// Starts a host with the configured backend. With <paramref name="loadingGate"/>, that backend starts loading only
    /// once the gate completes, so a test can watch the service while its teacher loads. <paramref name="services"/>
    /// adds to the host's services last (e.g. middleware through an <c>IStartupFilter</c>, or a log sink).
    /// </summary>
    public static TeacherHost Start(IReadOnlyDictionary<string, string?> settings, Task? loadingGate = null, Action<IServiceCollection>? services = null)
    {
        var host = new TeacherHost(settings, loadingGate, services);
        host.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        host.StartServer();
        return host;
    }

    /// <summary>Settings for a host serving <paramref name="checkpointDirectory"/> on the CPU, with the Redis cache when one is given.</summary>
    public static Dictionary<string, string?> Settings(string checkpointDirectory, RedisServerFixture? redis = null, string backend = TeacherBackends.Torch) => new()
    {
        ["Teacher:Backend"] = backend,
        ["Teacher:ModelPath"] = checkpointDirectory,
        ["Teacher:Device"] = "cpu",
        ["ConnectionStrings:cache"] = redis?.ConnectionString,
    };

    public Uri Address => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public HttpClient CreateHttpClient() => new() { BaseAddress = Address };

    /// <summary>Waits until every check is Healthy: the model is loaded and the cache, when configured, connected.</summary>
    public async Task WaitUntilReadyAsync()
    {
        using var http = CreateHttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (await (await http.GetAsync("/health")).Content.ReadAsStringAsync() != "Healthy")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The teacher service did not become ready.");
            await Task.Delay(50);
        }
    }

    /// <summary>Counts this host's forward passes from its own telemetry, so a cache hit can be told from a recomputation.</summary>
    public ForwardPassCounter CountForwardPasses() => new(Services.GetRequiredService<TeacherTelemetry>());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        if (_services is { } services) builder.ConfigureTestServices(services);
        if (_loadingGate is not { } gate) return;
        builder.ConfigureTestServices(services =>
        {
            var configured = services.Last(service => service.ServiceType == typeof(ITeacherBackend));
            services.Remove(configured);
            services.AddSingleton<ITeacherBackend>(provider => new GatedBackend(gate, (ITeacherBackend)configured.ImplementationFactory!(provider)));
        });
    }

    private sealed class GatedBackend(Task gate, ITeacherBackend backend) : ITeacherBackend
    {
        public async Task<LoadedTeacher> LoadAsync(CancellationToken cancellationToken)
        {
            await gate.WaitAsync(cancellationToken);
            return await backend.LoadAsync(cancellationToken);
        }
    }
}

/// <summary>Listens to one host's <c>distill.teacher.forward_passes</c> counter; hosts of tests running beside it have their own.</summary>
public sealed class ForwardPassCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public ForwardPassCounter(TeacherTelemetry telemetry)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument, telemetry.ForwardPasses)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, passes, _, _) => Interlocked.Add(ref _count, passes));
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
