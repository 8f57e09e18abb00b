using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Distill.TeacherService.Hosting;

/// <summary>The service's spans and metrics; both named "Distill.TeacherService", which ServiceDefaults registers.</summary>
public sealed class TeacherTelemetry : IDisposable
{
    public const string Name = "Distill.TeacherService";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private long _cacheHits;
    private long _cacheMisses;

    public TeacherTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        TokensScored = _meter.CreateCounter<long>("distill.teacher.tokens_scored", "{token}",
            "Completion tokens scored by forward passes (cache hits excluded); its rate is tokens scored per second.");
        ForwardPasses = _meter.CreateCounter<long>("distill.teacher.forward_passes", "{pass}", "Forward passes run.");
        BatchSequences = _meter.CreateHistogram<int>("distill.teacher.batch.sequences", "{sequence}", "Sequences per forward pass.");
        BatchTokens = _meter.CreateHistogram<int>("distill.teacher.batch.tokens", "{token}", "Tokens (prompt + completion) per forward pass.");
        QueueWait = _meter.CreateHistogram<double>("distill.teacher.queue.wait", "s", "Time a sequence waited before its forward pass began.");
        ForwardDuration = _meter.CreateHistogram<double>("distill.teacher.forward.duration", "s", "Duration of one forward pass.");
        CacheLookups = _meter.CreateCounter<long>("distill.teacher.cache.lookups", "{sequence}",
            "Score cache lookups by result: hit, miss or unavailable.");
        _meter.CreateObservableGauge("distill.teacher.cache.hit_ratio", ObserveHitRatio, "1",
            "Hits over hits + misses since start (lookups while the cache was unavailable count as misses).");
    }

    public Counter<long> TokensScored { get; }
    public Counter<long> ForwardPasses { get; }
    public Histogram<int> BatchSequences { get; }
    public Histogram<int> BatchTokens { get; }
    public Histogram<double> QueueWait { get; }
    public Histogram<double> ForwardDuration { get; }
    public Counter<long> CacheLookups { get; }

    public void RecordCacheLookups(int hits, int misses, bool available)
    {
        Interlocked.Add(ref _cacheHits, hits);
        Interlocked.Add(ref _cacheMisses, misses);
        if (hits > 0) CacheLookups.Add(hits, new KeyValuePair<string, object?>("result", "hit"));
        if (misses > 0) CacheLookups.Add(misses, new KeyValuePair<string, object?>("result", available ? "miss" : "unavailable"));
    }

    private double ObserveHitRatio()
    {
        long hits = Interlocked.Read(ref _cacheHits), misses = Interlocked.Read(ref _cacheMisses);
        return hits + misses == 0 ? 0 : (double)hits / (hits + misses);
    }

    public void Dispose() => _meter.Dispose();
}
