using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Distill.Dashboard.Resources;

namespace Distill.Dashboard.Tests;

/// <summary>
/// One Distill.Dashboard.TestService process, started as the AppHost starts a service: its own process, Aspire's
/// OTEL_* environment pointing at the dashboard, a loopback port, console output captured.
/// </summary>
internal sealed partial class TestServiceProcess : IAsyncDisposable
{
    private static readonly string AssemblyPath = typeof(TestServiceProcess).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Distill.Dashboard.TestServicePath").Value!;

    private readonly Process process;
    private readonly ConcurrentQueue<string> console = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestServiceProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
    }

    public string Name { get; }

    public Uri Url => listening.Task.Result;

    public bool IsHealthy { get; private set; }

    public IReadOnlyList<string> ConsoleLines => console.ToArray();

    public ResourceView View => new(Name, process.HasExited ? "Finished" : "Running", IsHealthy ? ResourceHealth.Healthy : null,
        Url.ToString(), Restarts: 0, process.HasExited ? process.ExitCode : null, process.Id);

    public static async Task<TestServiceProcess> StartAsync(string name, string otlpEndpoint, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(AssemblyPath);
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint;
        start.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        start.Environment["OTEL_SERVICE_NAME"] = name;
        start.Environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={name}-{Guid.NewGuid():N}";
        // Shorter than the AppHost's 1 s, so the test waits less for the batches.
        start.Environment["OTEL_BSP_SCHEDULE_DELAY"] = "200";
        start.Environment["OTEL_BLRP_SCHEDULE_DELAY"] = "200";
        start.Environment["OTEL_METRIC_EXPORT_INTERVAL"] = "500";
        foreach (var (key, value) in environment) start.Environment[key] = value;

        var service = new TestServiceProcess(name, Process.Start(start)!);
        service.process.OutputDataReceived += (_, e) => service.Receive(e.Data);
        service.process.ErrorDataReceived += (_, e) => service.Receive(e.Data);
        service.process.BeginOutputReadLine();
        service.process.BeginErrorReadLine();

        await service.listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        using var http = new HttpClient();
        service.IsHealthy = (await http.GetStringAsync(new Uri(service.Url, "/health"))) == "Healthy";
        return service;
    }

    private void Receive(string? line)
    {
        if (line is null) return;
        console.Enqueue(line);
        if (ListeningOn().Match(line) is { Success: true } match) listening.TrySetResult(new Uri(match.Groups[1].Value));
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }
}

/// <summary>
/// The test's app host side of the Resources page: the test service processes it started. They start after the
/// dashboard, since they need its OTLP endpoint, so they are added as they come.
/// </summary>
internal sealed class TestServiceProcesses : IResourceStatusSource
{
    private readonly ConcurrentDictionary<string, TestServiceProcess> services = new();

    public void Add(TestServiceProcess service) => services[service.Name] = service;

    public IReadOnlyCollection<ResourceView> Resources => [.. services.Values.Select(s => s.View)];

    public IReadOnlyList<string> ConsoleLines(string resource, int max) =>
        services.TryGetValue(resource, out var service) ? service.ConsoleLines.TakeLast(max).ToArray() : [];
}
