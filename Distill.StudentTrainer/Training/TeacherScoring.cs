using System.Diagnostics;
using System.Net;
using Distill.Core.Contracts;
using Distill.Core.Scoring;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Refit;

namespace Distill.StudentTrainer.Training;

/// <summary>Teacher log-probs for a batch, with how long they took and how many came from the teacher's cache.</summary>
public sealed record TeacherScores(IReadOnlyList<SequenceScores> Sequences, TimeSpan Latency, double CacheHitRatio);

/// <summary>
/// The trainer's side of the teacher: the Refit client already retries with backoff and breaks the circuit; when it
/// gives up (circuit open, teacher down) this waits and asks again, so a step never trains on missing scores.
/// </summary>
public sealed class TeacherScoring(ITeacherApi teacher, ILogger<TeacherScoring> logger)
{
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(30);

    public Task<TeacherInfo> DescribeAsync(CancellationToken cancellationToken) =>
        UntilAnsweredAsync("describe the teacher", () => teacher.GetTeacherAsync(cancellationToken), cancellationToken);

    public async Task<TeacherScores> ScoreAsync(IReadOnlyList<ScoringItem> items, int topK, CancellationToken cancellationToken)
    {
        var request = new ScoreRequest(items.Select(i => new ScoreSequence(i.PromptTokenIds, i.CompletionTokenIds)).ToArray(), topK);
        var clock = Stopwatch.StartNew();
        var response = await UntilAnsweredAsync("score a batch", () => teacher.ScoreAsync(request, cancellationToken), cancellationToken);
        clock.Stop();

        if (response.Sequences.Count != items.Count)
            throw new InvalidDataException($"the teacher returned {response.Sequences.Count} scored sequences for {items.Count}.");
        for (int i = 0; i < items.Count; i++)
        {
            var scores = response.Sequences[i];
            if (scores.LogProbs.Length != items[i].CompletionTokenIds.Length || (topK > 0 && scores.TopK?.Count != scores.LogProbs.Length))
                throw new InvalidDataException($"the teacher's scores of sequence {i} do not match its {items[i].CompletionTokenIds.Length} completion tokens.");
        }
        double hits = response.Sequences.Count == 0 ? 0 : response.Sequences.Count(s => s.Cached) / (double)response.Sequences.Count;
        return new TeacherScores(response.Sequences, clock.Elapsed, hits);
    }

    private async Task<T> UntilAnsweredAsync<T>(string what, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception error) when (IsTeacherUnavailable(error) && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("The teacher is unavailable ({Reason}); training pauses {Pause:0}s before trying to {What} again.",
                    error.GetType().Name + ": " + error.Message, pause.TotalSeconds, what);
                await Task.Delay(pause, cancellationToken);
                pause = TimeSpan.FromTicks(Math.Min(MaxPause.Ticks, pause.Ticks * 2));
            }
        }
    }

    // A client error (4xx) is a bug in the request and must surface; everything else means "not now".
    private static bool IsTeacherUnavailable(Exception error) => error switch
    {
        BrokenCircuitException or TimeoutRejectedException or HttpRequestException or TaskCanceledException => true,
        ApiException api => (int)api.StatusCode >= 500 || api.StatusCode == HttpStatusCode.TooManyRequests,
        _ => false,
    };
}
