using System.Diagnostics;
using System.Net;
using Distill.Core.Scoring;
using Distill.Core.Tokenization;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Refit;

namespace Distill.Core.Contracts;

/// <summary>Teacher log-probs for a batch, with how long they took and how many came from the teacher's cache.</summary>
public sealed record TeacherScores(IReadOnlyList<SequenceScores> Sequences, TimeSpan Latency, double CacheHitRatio);

/// <summary>A teacher that tokenizes differently from the student: per-token costs would compare different tokens.</summary>
public sealed class TokenizerMismatchException(string message) : Exception(message);

/// <summary>
/// The one client of the teacher service, used by the trainer, the evaluator and the experiment. The Refit client under
/// it (<c>AddTeacherClient</c>) already retries with back-off and breaks the circuit; when it gives up (circuit open,
/// teacher down) this waits and asks again, so no step or evaluation works on missing scores. Every answer is checked
/// against the request (one scored sequence per sequence, one log-prob per token, the candidates asked for), and
/// <see cref="ConnectAsync"/> is the one tokenizer check.
/// </summary>
public sealed class TeacherClient(ITeacherApi teacher, ILogger<TeacherClient> logger)
{
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(30);

    public Task<TeacherInfo> DescribeAsync(CancellationToken cancellationToken) =>
        UntilAnsweredAsync("describe the teacher", () => teacher.GetTeacherAsync(cancellationToken), cancellationToken);

    /// <summary>The teacher's description, after checking that it tokenizes as <paramref name="tokenizer"/> does.</summary>
    /// <exception cref="TokenizerMismatchException">The tokenizer fingerprints differ; the message names <paramref name="student"/>.</exception>
    public async Task<TeacherInfo> ConnectAsync(ITextTokenizer tokenizer, string student, CancellationToken cancellationToken)
    {
        var info = await DescribeAsync(cancellationToken);
        if (info.TokenizerFingerprint != tokenizer.Fingerprint)
            throw new TokenizerMismatchException(
                $"the teacher '{info.ModelId}' tokenizes differently from the student in {student} " +
                $"(tokenizer fingerprints {Short(info.TokenizerFingerprint)}… and {Short(tokenizer.Fingerprint)}…): " +
                "per-token costs would compare different tokens. Use a student and a teacher with the same tokenizer.");
        return info;
    }

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

    private static string Short(string fingerprint) => fingerprint.Length > 12 ? fingerprint[..12] : fingerprint;

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
                logger.LogWarning("The teacher is unavailable ({Reason}); pausing {Pause:0}s before trying to {What} again.",
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
