using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Distill.AppHost.Tests;

/// <summary>
/// The AppHost as a user starts it: <c>dotnet Distill.AppHost.dll</c> with flags, its console captured, on a data
/// directory of the test's own, with the dashboard on free loopback ports.
/// </summary>
public sealed class AppHostProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private AppHostProcess(Process process) => this.process = process;

    public IReadOnlyCollection<string> Output => output;

    public string Tail => string.Join("\n", output.TakeLast(80));

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public static AppHostProcess Start(string dataDirectory, IEnumerable<string> arguments)
    {
        var assembly = typeof(AppHostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Distill.AppHostAssembly").Value!;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { assembly, "--data-dir", dataDirectory, "--device", "cpu", "--dashboard-url", $"http://127.0.0.1:{FreePortBase()}" }.Concat(arguments))
            start.ArgumentList.Add(argument);
        var process = new Process { StartInfo = start };
        var host = new AppHostProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) host.output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) host.output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the AppHost did not finish within {limit}:\n{Tail}");
        }
        return process.ExitCode;
    }

    public async Task WaitForLineAsync(Func<string, bool> match, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!output.Any(match))
        {
            if (process.HasExited) throw new InvalidOperationException($"the AppHost exited ({process.ExitCode}) before the line came:\n{Tail}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the line did not come within {limit}:\n{Tail}");
            await Task.Delay(250);
        }
    }

    /// <summary>SIGTERM, as a service manager stops it (a background process of a non-interactive shell ignores SIGINT).</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", process.Id.ToString()]).WaitForExit();

    /// <summary>SIGKILL: the AppHost dies without stopping anything itself.</summary>
    public void Kill() => process.Kill();

    /// <summary>Processes started for a data directory (redis-server's configuration or a service's arguments or environment name it).</summary>
    public static IReadOnlyList<(int Id, string CommandLine)> ProcessesOf(string dataDirectory)
    {
        var found = new List<(int, string)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                var environment = File.ReadAllText(Path.Combine(directory, "environ"));
                if (commandLine.Contains(dataDirectory) || environment.Contains(dataDirectory)) found.Add((pid, commandLine));
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }
        return found;
    }

    /// <summary>Waits for every process of the data directory to be gone (DCP stops them after the AppHost).</summary>
    public static async Task<IReadOnlyList<(int Id, string CommandLine)>> LeftoversAfterAsync(string dataDirectory, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var left = ProcessesOf(dataDirectory);
            if (left.Count == 0 || DateTime.UtcNow > deadline) return left;
            await Task.Delay(500);
        }
    }

    /// <summary>A port whose next two are free too: the dashboard, its OTLP receiver and the resource service.</summary>
    private static int FreePortBase()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int port = Random.Shared.Next(20_000, 60_000);
            if (Enumerable.Range(port, 3).All(IsFree)) return port;
        }
        throw new InvalidOperationException("no three consecutive free ports");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
