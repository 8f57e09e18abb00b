using System.Text.Json;

namespace Distill.Core.Runs;

/// <summary>A second writer found the run directory held by another; the message names the holder's pid.</summary>
public sealed class RunDirectoryInUseException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Who holds a run directory: written to <c>run.lock.json</c> right after the lock is taken. The lock file itself
/// carries the pid too, for a person with <c>cat</c>, but .NET opens every file under a shared <c>flock</c>, which the
/// holder's exclusive one refuses; so a refused trainer reads the holder from this sibling instead.
/// </summary>
public sealed record RunLockHolder(int ProcessId, string MachineName, DateTimeOffset Since);

/// <summary>
/// One writer per run directory: an exclusive OS lock on <c>run.lock</c> (<see cref="FileShare.None"/>, which .NET
/// implements with <c>flock(LOCK_EX)</c> on Unix and a share-mode open on Windows), held until disposed. The OS drops
/// it when the holding process dies, however it dies, so a killed trainer never leaves a stale lock behind and an
/// orphaned one that is still running keeps every later trainer out.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = "run.lock";
    public const string HolderFileName = "run.lock.json";

    private readonly FileStream _lock;

    private RunLock(FileStream handle) => _lock = handle;

    /// <summary>Takes the run directory's lock, creating the directory when needed.</summary>
    /// <exception cref="RunDirectoryInUseException">Another process, or another trainer of this one, holds it.</exception>
    public static RunLock Acquire(RunDirectory run)
    {
        Directory.CreateDirectory(run.Path);
        var path = System.IO.Path.Combine(run.Path, FileName);
        FileStream handle;
        try
        {
            handle = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException error) when (error is not FileNotFoundException and not DirectoryNotFoundException)
        {
            var holder = ReadHolder(run);
            var who = holder is null
                ? "another process (its pid is not recorded yet)"
                : $"process {holder.ProcessId} on {holder.MachineName} (since {holder.Since:u})";
            throw new RunDirectoryInUseException(
                $"--run-dir {run.Path} is in use by {who}: {path} is locked, and two trainers in one run directory would " +
                "write every step twice. Stop that trainer, or choose another --run-dir.", error);
        }

        try
        {
            var holder = new RunLockHolder(Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow);
            handle.SetLength(0);
            handle.Write(System.Text.Encoding.UTF8.GetBytes($"{holder.ProcessId}\n"));
            handle.Flush(flushToDisk: true);
            RunDirectory.WriteJsonAtomically(System.IO.Path.Combine(run.Path, HolderFileName), holder);
            return new RunLock(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The recorded holder; null when none was recorded or the record is unreadable (it is advice, not the lock).</summary>
    public static RunLockHolder? ReadHolder(RunDirectory run)
    {
        try
        {
            return JsonSerializer.Deserialize<RunLockHolder>(File.ReadAllText(System.IO.Path.Combine(run.Path, HolderFileName)), RunDirectory.Json);
        }
        catch (Exception error) when (error is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // The holder record stays: it is overwritten by the next holder, and a stale one is never mistaken for the lock.
    public void Dispose() => _lock.Dispose();
}
