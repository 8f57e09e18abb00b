using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Distill.Dashboard.Resources;

namespace Distill.Dashboard.Tests;

/// <summary>
/// One of Distill's real services, started as the AppHost starts it: <c>dotnet &lt;its built dll&gt;</c> in its own
/// process, with Aspire's OTEL_* environment pointing at the dashboard, a loopback port and its console captured.
/// </summary>
internal sealed partial class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> console = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServiceProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
    }

    public string Name { get; }

    /// <summary>Where it listens, once it said so.</summary>
    public Uri? Url => listening.Task.IsCompletedSuccessfully ? listening.Task.Result : null;

    public bool IsHealthy { get; private set; }

    public IReadOnlyList<string> ConsoleLines => console.ToArray();

    public ResourceView View => new(Name, process.HasExited ? "Finished" : "Running", IsHealthy ? ResourceHealth.Healthy : null,
        Url?.ToString(), Restarts: 0, process.HasExited ? process.ExitCode : null, process.Id);

    /// <summary>The path of a service's dll, as the test project's build recorded it.</summary>
    public static string AssemblyOf(string key) => typeof(ServiceProcess).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static ServiceProcess Start(string name, string assemblyPath, IReadOnlyList<string> arguments, string otlpEndpoint,
        IReadOnlyDictionary<string, string> environment)
    {
        if (!File.Exists(assemblyPath)) throw new FileNotFoundException($"{name}: {assemblyPath} is not built.", assemblyPath);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(assemblyPath);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
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

        var service = new ServiceProcess(name, Process.Start(start)!);
        service.process.OutputDataReceived += (_, e) => service.Receive(e.Data);
        service.process.ErrorDataReceived += (_, e) => service.Receive(e.Data);
        service.process.BeginOutputReadLine();
        service.process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Waits until its <c>/health</c> says Healthy; fails early, with its console, when it exits first.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        string? last = null;
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            if (Url is { } url)
            {
                try
                {
                    last = await http.GetStringAsync(new Uri(url, "/health"));
                    if (last == "Healthy")
                    {
                        IsHealthy = true;
                        return;
                    }
                }
                catch (HttpRequestException error)
                {
                    last = error.Message;
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{Name} did not become healthy (exited: {process.HasExited}; last health answer: {last ?? "none"}). " +
                                   $"Console:\n{string.Join('\n', ConsoleLines.TakeLast(40))}");
    }

    /// <summary>Waits for a service that runs to completion (the trainer) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} did not finish within {timeout.TotalSeconds:0} s. Console:\n{string.Join('\n', ConsoleLines.TakeLast(40))}");
        }
        return process.ExitCode;
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
/// The test's app host side of the Resources page: the service processes it started. They start after the
/// dashboard, since they need its OTLP endpoint, so they are added as they come.
/// </summary>
internal sealed class ServiceProcesses : IResourceStatusSource
{
    private readonly ConcurrentDictionary<string, ServiceProcess> services = new();

    public void Add(ServiceProcess service) => services[service.Name] = service;

    public IReadOnlyCollection<ResourceView> Resources => [.. services.Values.Select(s => s.View)];

    public IReadOnlyList<string> ConsoleLines(string resource, int max) =>
        services.TryGetValue(resource, out var service) ? service.ConsoleLines.TakeLast(max).ToArray() : [];
}
