using System.Runtime.CompilerServices;
using Distill.Core.Runs;

namespace Distill.Evaluator.Runs;

/// <summary>Follows a run directory while its trainer writes it: each checkpoint once, as soon as it is announced.</summary>
public static class RunWatcher
{
    /// <summary>
    /// Yields every checkpoint announced in <c>checkpoints.jsonl</c> that has no stored evaluation yet, in announcement
    /// order, then waits for more; ends once <c>completed.json</c> exists and everything announced before it was yielded.
    /// Polls rather than using a file-system watcher: run directories live on network and container mounts where change
    /// notifications are lost, and a checkpoint every few minutes needs no faster reaction.
    /// </summary>
    public static async IAsyncEnumerable<CheckpointAnnouncement> WatchAsync(
        RunDirectory run, TimeSpan pollInterval, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var yielded = new HashSet<int>();
        while (true)
        {
            // completed.json is written after the final announcement, so reading it first means the announcements
            // read next include the final checkpoint.
            var completed = run.IsCompleted;
            foreach (var announcement in run.ReadAnnouncements())
            {
                if (EvaluationStore.HasResult(run, announcement.Step) || !yielded.Add(announcement.Step)) continue;
                yield return announcement with { Path = ResolveCheckpointPath(run, announcement) };
            }
            if (completed) yield break;
            await Task.Delay(pollInterval, cancellationToken);
        }
    }

    /// <summary>The announced path, relative to the run directory when it is not absolute.</summary>
    public static string ResolveCheckpointPath(RunDirectory run, CheckpointAnnouncement announcement) =>
        Path.GetFullPath(Path.Combine(run.Path, announcement.Path));
}
