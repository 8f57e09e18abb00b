using System.Diagnostics;
using Distill.Core.Scoring;
using Distill.TeacherService.Backends;
using Distill.TeacherService.Caching;
using Distill.TeacherService.Hosting;

namespace Distill.TeacherService.Scoring;

/// <summary>One scored sequence and whether it came from the cache.</summary>
public readonly record struct ScoredSequence(ScoredCompletion Scores, bool Cached);

/// <summary>The path of every scoring request, whichever endpoint it came in by: cache, then batched forward passes.</summary>
public sealed class ScoringPipeline(ScoreCache cache, ScoreBatcher batcher)
{
    public async Task<ScoredSequence[]> ScoreAsync(LoadedTeacher teacher, IReadOnlyList<ScoringItem> items, int topK, CancellationToken cancellationToken)
    {
        using var activity = TeacherTelemetry.ActivitySource.StartActivity("teacher.score");
        activity?.SetTag("teacher.sequences", items.Count);
        activity?.SetTag("teacher.top_k", topK);

        var cached = await cache.GetAsync(teacher.Info, items, topK);
        var missing = Enumerable.Range(0, items.Count).Where(i => cached[i] is null).ToArray();
        var results = new ScoredSequence[items.Count];
        for (var i = 0; i < items.Count; i++)
            if (cached[i] is { } hit) results[i] = new ScoredSequence(hit, Cached: true);
        if (missing.Length == 0) return results;

        var missingItems = missing.Select(i => items[i]).ToArray();
        ScoredCompletion[] scored;
        using (TeacherTelemetry.ActivitySource.StartActivity("teacher.batch.wait"))
        {
            scored = await batcher.ScoreAsync(missingItems, topK, cancellationToken);
        }
        for (var j = 0; j < missing.Length; j++)
            results[missing[j]] = new ScoredSequence(scored[j], Cached: false);
        cache.Set(teacher.Info, missingItems, scored, topK);
        activity?.SetStatus(ActivityStatusCode.Ok);
        return results;
    }
}
