using System.Diagnostics;
using System.Threading.Channels;
using Distill.Core.Scoring;
using Distill.TeacherService.Hosting;
using Microsoft.Extensions.Options;

namespace Distill.TeacherService.Scoring;

/// <summary>
/// Dynamic batching: sequences from concurrent requests wait in one queue, and a single background loop takes as many
/// as fit the token budget into each forward pass. One pass at a time keeps the device busy without fighting over it.
/// </summary>
public sealed class ScoreBatcher : BackgroundService
{
    private readonly Channel<PendingSequence> _queue;
    private readonly TeacherModel _model;
    private readonly TeacherTelemetry _telemetry;
    private readonly BatchingOptions _options;
    private readonly ILogger<ScoreBatcher> _logger;

    public ScoreBatcher(TeacherModel model, TeacherTelemetry telemetry, IOptions<TeacherOptions> options, ILogger<ScoreBatcher> logger)
    {
        _model = model;
        _telemetry = telemetry;
        _options = options.Value.Batching;
        _logger = logger;
        _queue = Channel.CreateBounded<PendingSequence>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Queues the sequences and completes when every one has been through a forward pass.</summary>
    public async Task<ScoredCompletion[]> ScoreAsync(IReadOnlyList<ScoringItem> items, int topK, CancellationToken cancellationToken)
    {
        var pending = new PendingSequence[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            pending[i] = new PendingSequence(items[i], topK, Activity.Current?.Context ?? default, Stopwatch.GetTimestamp(), cancellationToken);
            await _queue.Writer.WriteAsync(pending[i], cancellationToken);
        }
        return await Task.WhenAll(pending.Select(p => p.Completion.Task)).WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Backends.LoadedTeacher teacher;
        try
        {
            teacher = await _model.WhenLoaded.WaitAsync(stoppingToken);
        }
        catch (Exception) when (_model.LoadError is not null)
        {
            // Nothing will be queued: requests are refused with 503 while there is no teacher.
            return;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        var batch = new List<PendingSequence>(_options.MaxBatchSequences);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                await TakeBatchAsync(batch, stoppingToken);
                if (batch.Count > 0)
                    await RunForwardAsync(teacher.Scorer, batch, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down. A host disposed without StopAsync cancels this token too, and would otherwise log the
            // cancellation as a crashed background service.
        }
    }

    /// <summary>Takes sequences while they fit the budget, waiting up to the batch window for more to arrive.</summary>
    private async Task TakeBatchAsync(List<PendingSequence> batch, CancellationToken stoppingToken)
    {
        var tokens = 0;
        using var window = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        window.CancelAfter(_options.BatchWindow);
        while (batch.Count < _options.MaxBatchSequences)
        {
            if (_queue.Reader.TryPeek(out var next))
            {
                // A sequence over the whole budget still runs, alone, so it is never starved.
                if (batch.Count > 0 && tokens + next.Tokens > _options.MaxBatchTokens) return;
                _queue.Reader.TryRead(out _);
                if (next.CancellationToken.IsCancellationRequested)
                {
                    next.Completion.TrySetCanceled(next.CancellationToken);
                    continue;
                }
                batch.Add(next);
                tokens += next.Tokens;
                continue;
            }
            try
            {
                if (!await _queue.Reader.WaitToReadAsync(window.Token)) return;
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task RunForwardAsync(ISequenceScorer scorer, List<PendingSequence> batch, CancellationToken stoppingToken)
    {
        var started = Stopwatch.GetTimestamp();
        var links = batch.Where(p => p.Parent != default).Select(p => new ActivityLink(p.Parent));
        using var batchActivity = TeacherTelemetry.ActivitySource.StartActivity("teacher.batch", ActivityKind.Internal, parentContext: default, links: links);
        var topK = batch.Max(p => p.TopK);
        var tokens = batch.Sum(p => p.Tokens);
        var completionTokens = batch.Sum(p => p.Item.CompletionTokenIds.Length);
        batchActivity?.SetTag("teacher.batch.sequences", batch.Count);
        batchActivity?.SetTag("teacher.batch.tokens", tokens);
        batchActivity?.SetTag("teacher.top_k", topK);
        foreach (var pending in batch)
            _telemetry.QueueWait.Record(Stopwatch.GetElapsedTime(pending.EnqueuedAt, started).TotalSeconds);
        _telemetry.BatchSequences.Record(batch.Count);
        _telemetry.BatchTokens.Record(tokens);

        try
        {
            IReadOnlyList<ScoredCompletion> scored;
            using (var forward = TeacherTelemetry.ActivitySource.StartActivity("teacher.forward"))
            {
                scored = await scorer.ScoreAsync(batch.Select(p => p.Item).ToArray(), topK, stoppingToken);
            }
            _telemetry.ForwardPasses.Add(1);
            _telemetry.ForwardDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _telemetry.TokensScored.Add(completionTokens);
            for (var i = 0; i < batch.Count; i++)
                batch[i].Completion.TrySetResult(TrimTopK(scored[i], batch[i].TopK));
        }
        catch (Exception error) when (!stoppingToken.IsCancellationRequested)
        {
            _logger.LogError(error, "A forward pass of {Sequences} sequences ({Tokens} tokens) failed", batch.Count, tokens);
            batchActivity?.SetStatus(ActivityStatusCode.Error, error.Message);
            foreach (var pending in batch)
                pending.Completion.TrySetException(error);
        }
    }

    /// <summary>Sequences asking for fewer candidates than the batch's largest k share its pass and get their own k.</summary>
    private static ScoredCompletion TrimTopK(ScoredCompletion scored, int topK)
    {
        if (topK == 0) return scored with { TopK = null };
        if (scored.TopK is null || scored.TopK.All(position => position.Length == topK)) return scored;
        return scored with { TopK = scored.TopK.Select(position => position[..topK]).ToArray() };
    }

    private sealed class PendingSequence(ScoringItem item, int topK, ActivityContext parent, long enqueuedAt, CancellationToken cancellationToken)
    {
        public ScoringItem Item { get; } = item;
        public int TopK { get; } = topK;
        public int Tokens { get; } = item.PromptTokenIds.Length + item.CompletionTokenIds.Length;
        public ActivityContext Parent { get; } = parent;
        public long EnqueuedAt { get; } = enqueuedAt;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource<ScoredCompletion> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
