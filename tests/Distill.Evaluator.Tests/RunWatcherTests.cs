using Distill.Core.Runs;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Runs;

namespace Distill.Evaluator.Tests;

public class RunWatcherTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task YieldsACheckpointAnnouncedAfterItStartedAndEndsOnceTheRunIsComplete()
    {
        using var directory = new TemporaryDirectory();
        var run = TestRuns.CreateRun(directory.Combine("run"), "run");
        RunDirectory.AppendJsonLine(run.AnnouncementsPath, new CheckpointAnnouncement(10, "checkpoints/step-000010", DateTimeOffset.UnixEpoch));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var seen = new List<CheckpointAnnouncement>();
        await foreach (var announcement in RunWatcher.WatchAsync(run, Poll, timeout.Token))
        {
            seen.Add(announcement);
            if (seen.Count == 1)
            {
                // The trainer goes on while the evaluator works: a new checkpoint, then the end of the run.
                RunDirectory.AppendJsonLine(run.AnnouncementsPath, new CheckpointAnnouncement(20, "checkpoints/step-000020", DateTimeOffset.UnixEpoch));
                RunDirectory.WriteJsonAtomically(run.CompletedPath, new { steps = 20 });
            }
        }

        Assert.Equal([10, 20], seen.Select(a => a.Step));
        Assert.Equal(run.CheckpointPath(20), seen[1].Path);
    }

    [Fact]
    public async Task SkipsCheckpointsThatAlreadyHaveAResult()
    {
        using var directory = new TemporaryDirectory();
        var run = TestRuns.CreateRun(directory.Combine("run"), "run");
        foreach (var step in new[] { 10, 20, 30 })
            RunDirectory.AppendJsonLine(run.AnnouncementsPath, new CheckpointAnnouncement(step, run.CheckpointPath(step), DateTimeOffset.UnixEpoch));
        TestRuns.StoreEvaluation(run, TestRuns.Evaluation("run", 10, 0.5, 0.5, 1.0));
        EvaluationStore.WriteFailure(run.EvaluationPath(20), new EvaluationFailure("run", 20, run.CheckpointPath(20), "corrupt", DateTimeOffset.UnixEpoch));
        RunDirectory.WriteJsonAtomically(run.CompletedPath, new { steps = 30 });

        var seen = await RunWatcher.WatchAsync(run, Poll).ToListAsync();

        Assert.Equal(30, Assert.Single(seen).Step);
    }
}
