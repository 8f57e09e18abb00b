using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Distill.ServiceDefaults;

namespace Distill.AppHost.Hosting;

/// <summary>What the host knows about one resource now (the dashboard shows it).</summary>
public sealed record ResourceSnapshot(string Name, ResourceState State, int Restarts, int? ExitCode, string? Endpoint, int? ProcessId);

/// <summary>
/// Runs the resource graph: free ports, Aspire's environment contract, start order by waits, health polling with
/// backoff, bounded restarts of crashed processes, and a stop of every child on completion, Ctrl+C or SIGTERM.
/// </summary>
public sealed class DistributedApplication
{
    private static readonly TimeSpan HealthTimeout = TimeSpan.FromMinutes(15);
    private readonly IReadOnlyList<Resource> resources;
    private readonly string dataDirectory;
    private readonly string? otlpEndpoint;
    private readonly ConcurrentDictionary<string, ResourceSnapshot> snapshots = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> healthy = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> completed = new();
    private readonly ConcurrentStack<ResourceProcess> running = new();
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private volatile bool shuttingDown;

    internal DistributedApplication(IReadOnlyList<Resource> resources, string dataDirectory, string? otlpEndpoint)
    {
        this.resources = resources;
        this.dataDirectory = Path.GetFullPath(dataDirectory);
        this.otlpEndpoint = otlpEndpoint;
        foreach (var resource in resources)
        {
            healthy[resource.Name] = new(TaskCreationOptions.RunContinuationsAsynchronously);
            completed[resource.Name] = new(TaskCreationOptions.RunContinuationsAsynchronously);
            snapshots[resource.Name] = new(resource.Name, ResourceState.NotStarted, 0, null, null, null);
        }
    }

    public IReadOnlyCollection<ResourceSnapshot> Snapshots => snapshots.Values.OrderBy(s => s.Name).ToArray();

    public string LogDirectory => Path.Combine(dataDirectory, "logs");

    /// <summary>
    /// Runs until every job finishes or one fails (then, with <paramref name="keepRunning"/>, until
    /// <paramref name="cancellationToken"/> fires), and stops every process. Returns the exit code: 0 when every job
    /// succeeded, 1 when one failed, 130 when stopped before the jobs were done.
    /// </summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken, bool keepRunning = false)
    {
        Directory.CreateDirectory(LogDirectory);
        AllocatePorts();

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var supervisors = resources.Select(resource => Task.Run(() => SuperviseAsync(resource, stopping.Token))).ToArray();
        var jobs = resources.Where(r => r.IsJob).Select(r => completed[r.Name].Task).ToArray();
        // True once every job has finished, false as soon as one fails; with no jobs, it runs until stopped.
        var completion = jobs.Length == 0 ? new TaskCompletionSource<bool>().Task : AllSucceededAsync(jobs);

        int exitCode;
        try
        {
            exitCode = await completion.WaitAsync(cancellationToken) ? 0 : 1;
        }
        catch (OperationCanceledException)
        {
            exitCode = 130;
        }
        if (keepRunning && exitCode != 130)
        {
            ConsoleOutput.Status("apphost", "jobs done; services keep running until Ctrl+C.");
            try { await Task.Delay(Timeout.Infinite, cancellationToken); }
            catch (OperationCanceledException) { }
        }

        // Dependents first, Redis last: stop in the reverse order of starting (the stack's order). No restarts now.
        shuttingDown = true;
        foreach (var process in running)
            await process.StopAsync();
        stopping.Cancel();
        await Task.WhenAll(supervisors.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        return exitCode;
    }

    private static async Task<bool> AllSucceededAsync(Task<bool>[] jobs)
    {
        var pending = jobs.ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            if (!await done) return false;
            pending.Remove(done);
        }
        return true;
    }

    private void AllocatePorts()
    {
        foreach (var resource in resources)
        {
            if (resource is RedisResource redis) redis.Port = FreePort();
            if (resource.HasHttpEndpoint) resource.HttpPort = FreePort();
            if (resource.HasHttpEndpoint) Update(resource.Name, s => s with { Endpoint = resource.HttpUrl });
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task SuperviseAsync(Resource resource, CancellationToken cancellationToken)
    {
        try
        {
            if (!await WaitForDependenciesAsync(resource, cancellationToken)) return;
            if (resource is not ProcessResource process)
            {
                // Something that exists already (an external Redis): nothing to start.
                Update(resource.Name, s => s with { State = ResourceState.Healthy });
                healthy[resource.Name].TrySetResult(true);
                return;
            }

            for (int attempt = 0; ; attempt++)
            {
                var (exitCode, lastError) = await RunOnceAsync(process, attempt, cancellationToken);
                if (cancellationToken.IsCancellationRequested || shuttingDown) return;
                if (exitCode == ServiceExitCodes.CannotStart)
                {
                    // Restarting would fail the same way: stop the run now, with the service's own reason.
                    Fail(resource, $"cannot start: {lastError ?? "no reason given"} (exit code {exitCode}; " +
                                   $"see {Path.Combine(LogDirectory, resource.Name + ".log")})");
                    return;
                }
                if (exitCode == 0)
                {
                    Update(resource.Name, s => s with { State = ResourceState.Finished, ExitCode = 0 });
                    ConsoleOutput.Status(resource.Name, "finished");
                    completed[resource.Name].TrySetResult(true);
                    return;
                }
                if (attempt >= resource.MaxRestarts)
                {
                    Fail(resource, $"exited with code {exitCode}; see {Path.Combine(LogDirectory, resource.Name + ".log")}");
                    return;
                }
                var delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, attempt)));
                ConsoleOutput.Status(resource.Name, $"exited with code {exitCode}; restarting in {delay.TotalSeconds:0}s " +
                                                    $"({attempt + 1} of {resource.MaxRestarts})");
                Update(resource.Name, s => s with { Restarts = attempt + 1, ExitCode = exitCode });
                await Task.Delay(delay, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Update(resource.Name, s => s with { State = ResourceState.Stopped });
        }
        catch (Exception error) when (error is FileNotFoundException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Fail(resource, error.Message);
        }
    }

    private async Task<bool> WaitForDependenciesAsync(Resource resource, CancellationToken cancellationToken)
    {
        if (resource.Waits.Count > 0) Update(resource.Name, s => s with { State = ResourceState.Waiting });
        foreach (var (dependency, kind) in resource.Waits)
        {
            var signal = kind == WaitKind.Healthy ? healthy[dependency.Name].Task : completed[dependency.Name].Task;
            if (!await signal.WaitAsync(cancellationToken))
            {
                Fail(resource, $"not started: '{dependency.Name}' failed");
                return false;
            }
        }
        return true;
    }

    private async Task<(int ExitCode, string? LastError)> RunOnceAsync(ProcessResource resource, int attempt, CancellationToken cancellationToken)
    {
        Update(resource.Name, s => s with { State = ResourceState.Starting });
        var (fileName, arguments) = resource.Command(dataDirectory);
        using var process = ResourceProcess.Start(resource.Name, fileName, arguments, EnvironmentFor(resource),
            Path.Combine(LogDirectory, resource.Name + ".log"), append: attempt > 0);
        running.Push(process);
        Update(resource.Name, s => s with { State = ResourceState.Running, ProcessId = process.Id });

        var exited = process.WaitForExitAsync(CancellationToken.None);
        var becameHealthy = PollHealthAsync(resource, exited, cancellationToken);
        if (await becameHealthy)
        {
            Update(resource.Name, s => s with { State = ResourceState.Healthy });
            if (!resource.IsJob) ConsoleOutput.Status(resource.Name, resource.HasHttpEndpoint ? $"healthy at {resource.HttpUrl}" : "running");
            healthy[resource.Name].TrySetResult(true);
        }
        using var registration = cancellationToken.Register(() => _ = process.StopAsync());
        return (await exited, process.LastError);
    }

    private async Task<bool> PollHealthAsync(ProcessResource resource, Task exited, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + HealthTimeout;
        var delay = TimeSpan.FromMilliseconds(100);
        while (!exited.IsCompleted && !cancellationToken.IsCancellationRequested && DateTime.UtcNow < deadline)
        {
            if (await resource.IsHealthyAsync(http, cancellationToken)) return true;
            await Task.WhenAny(exited, Task.Delay(delay, cancellationToken));
            delay = TimeSpan.FromMilliseconds(Math.Min(2000, delay.TotalMilliseconds * 1.5));
        }
        return false;
    }

    private Dictionary<string, string> EnvironmentFor(Resource resource)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["OTEL_SERVICE_NAME"] = resource.Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={resource.Name}-{Guid.NewGuid():N}",
            // Aspire shortens the export intervals in development so telemetry shows up at once.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
        };
        if (otlpEndpoint is not null)
        {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint;
            environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        }
        if (resource.HasHttpEndpoint) environment["ASPNETCORE_URLS"] = resource.HttpUrl;
        foreach (var reference in resource.References)
            foreach (var (key, value) in reference.ReferenceEnvironment())
                environment[key] = value;
        foreach (var (key, value) in resource.Environment)
            environment[key] = value();
        return environment;
    }

    private void Fail(Resource resource, string reason)
    {
        Update(resource.Name, s => s with { State = ResourceState.Failed });
        ConsoleOutput.Status(resource.Name, "failed: " + reason, isError: true);
        healthy[resource.Name].TrySetResult(false);
        completed[resource.Name].TrySetResult(false);
    }

    private void Update(string name, Func<ResourceSnapshot, ResourceSnapshot> change) =>
        snapshots.AddOrUpdate(name, _ => throw new InvalidOperationException(name), (_, old) => change(old));
}
