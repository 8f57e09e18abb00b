using System.Net;
using Distill.TeacherService.Backends;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.TeacherService.Tests;

/// <summary>The teacher service on a real Kestrel socket at 127.0.0.1 (not the in-memory TestServer).</summary>
public sealed class TeacherHost : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly ITeacherBackend? _backend;

    private TeacherHost(IReadOnlyDictionary<string, string?> settings, ITeacherBackend? backend)
    {
        _settings = settings;
        _backend = backend;
    }

    /// <summary>Starts a host; <paramref name="backend"/>, when given, replaces the configured one.</summary>
    public static TeacherHost Start(IReadOnlyDictionary<string, string?> settings, ITeacherBackend? backend = null)
    {
        var host = new TeacherHost(settings, backend);
        host.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        host.StartServer();
        return host;
    }

    /// <summary>Settings for a host scoring with <paramref name="teacher"/>, with the Redis cache when one is given.</summary>
    public static Dictionary<string, string?> Settings(RedisServerFixture? redis = null, string? checkpointDirectory = null) => new()
    {
        ["Teacher:Backend"] = TeacherBackends.Torch,
        ["Teacher:Torch:CheckpointDirectory"] = checkpointDirectory ?? Path.GetTempPath(),
        ["ConnectionStrings:cache"] = redis?.ConnectionString,
    };

    public Uri Address => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public HttpClient CreateHttpClient() => new() { BaseAddress = Address };

    /// <summary>Waits until every check is Healthy: the model is loaded and the cache, when configured, connected.</summary>
    public async Task WaitUntilReadyAsync()
    {
        using var http = CreateHttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await (await http.GetAsync("/health")).Content.ReadAsStringAsync() != "Healthy")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The teacher service did not become ready.");
            await Task.Delay(50);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        if (_backend is not null) builder.ConfigureTestServices(services => services.AddSingleton(_backend));
    }
}
