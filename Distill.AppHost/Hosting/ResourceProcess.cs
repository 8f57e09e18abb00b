using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Distill.AppHost.Hosting;

/// <summary>A child process whose output goes to the console (prefixed with its resource name) and to its log file.</summary>
internal sealed class ResourceProcess : IDisposable
{
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(10);
    private readonly Process process;
    private readonly StreamWriter log;
    private readonly string name;
    private int stopping;

    private ResourceProcess(string name, Process process, StreamWriter log)
    {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    public int Id => process.Id;

    /// <summary>The last <c>error:</c> line the process wrote to standard error: why it could not start, when it says.</summary>
    public string? LastError { get; private set; }

    public static ResourceProcess Start(string name, string fileName, IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string> environment, string logPath, bool append)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment) start.Environment[key] = value;

        var log = new StreamWriter(logPath, append) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var resourceProcess = new ResourceProcess(name, process, log);
        process.OutputDataReceived += (_, e) => resourceProcess.Write(e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => resourceProcess.Write(e.Data, isError: true);
        if (!process.Start())
            throw new InvalidOperationException($"resource '{name}': '{fileName}' did not start.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        ChildProcesses.Track(process);
        return resourceProcess;
    }

    private void Write(string? line, bool isError)
    {
        if (line is null) return;
        if (isError && line.StartsWith("error:", StringComparison.Ordinal)) LastError = line["error:".Length..].Trim();
        lock (log) log.WriteLine(line);
        ConsoleOutput.Line(name, line, isError);
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode;
    }

    /// <summary>SIGTERM first so the service shuts down cleanly, then the whole process tree is killed.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref stopping, 1) == 1) return;
        try
        {
            if (process.HasExited) return;
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = Kill(process.Id, SigTerm);
            else process.Kill(entireProcessTree: true);
            using var grace = new CancellationTokenSource(GracePeriod);
            try { await process.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); }
        }
        catch (InvalidOperationException)
        {
            // The process was never started or has already been reaped.
        }
    }

    public void Dispose()
    {
        lock (log) log.Dispose();
        process.Dispose();
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>Last line of defence against orphans: every child still alive when the host exits is killed.</summary>
internal static class ChildProcesses
{
    private static readonly List<Process> Tracked = [];

    static ChildProcesses() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    public static void Track(Process process)
    {
        lock (Tracked) Tracked.Add(process);
    }

    public static void KillAll()
    {
        lock (Tracked)
        {
            foreach (var process in Tracked)
            {
                try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
                catch (InvalidOperationException) { }
            }
        }
    }
}
