using System.Runtime.InteropServices;

namespace Distill.CommandLine;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM turned into a cancellation instead of the end of the process: a long command stops at
/// its next cancellation check, keeps what it wrote, and exits with <see cref="ExitCodes.Stopped"/> and a message of its
/// own. A command that starts hosts in-process needs it for SIGTERM: their console lifetimes take the signal for
/// themselves (to stop a host that nothing waits on), so without a handler here <c>kill</c> stops nothing. A process
/// started in the background by a non-interactive shell (<c>cmd &amp;</c> in a script) inherits SIGINT ignored and the
/// runtime keeps it so, as such a job should: there only SIGTERM stops it.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly PosixSignalRegistration[] registrations;

    private StopSignals() =>
        registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop)];

    /// <summary>From now until disposed, either signal cancels <see cref="Token"/>.</summary>
    public static StopSignals Register() => new();

    public CancellationToken Token => stop.Token;

    public bool StopRequested => stop.IsCancellationRequested;

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        stop.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        stop.Dispose();
    }
}
