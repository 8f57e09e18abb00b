using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using Distill.Core.Contracts;
using Distill.Core.Scoring;
using Distill.TeacherService.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.TeacherService.Caching;

/// <summary>
/// Scores in Redis, keyed by teacher fingerprint, k and a hash of the token ids. The connection is the
/// <c>Aspire.StackExchange.Redis</c> client's (<see cref="TeacherCacheExtensions.AddScoreCache"/>). The cache is an
/// optimisation only: when Redis is down, lookups report misses at once and writes are dropped, and StackExchange.Redis
/// reconnects on its own when Redis is back.
/// </summary>
public sealed class ScoreCache
{
    private readonly ScoreCacheOptions _options;
    private readonly TeacherTelemetry _telemetry;
    private readonly ILogger<ScoreCache> _logger;
    private readonly IConnectionMultiplexer? _multiplexer;

    public ScoreCache(IServiceProvider services, IOptions<TeacherOptions> options, TeacherTelemetry telemetry, ILogger<ScoreCache> logger)
    {
        _options = options.Value.Cache;
        _telemetry = telemetry;
        _logger = logger;
        _multiplexer = services.GetService<IConnectionMultiplexer>();
        if (_multiplexer is null)
        {
            logger.LogInformation("No ConnectionStrings:{Name}; scoring without a cache", ConnectionName);
            return;
        }
        _multiplexer.ConnectionFailed += (_, e) =>
            _logger.LogWarning(e.Exception, "Score cache unavailable ({FailureType}); scoring goes on without it", e.FailureType);
        _multiplexer.ConnectionRestored += (_, _) =>
        {
            _logger.LogInformation("Score cache connection restored");
            _ = ApplyMemoryBoundAsync(_multiplexer);
        };
        _ = ApplyMemoryBoundAsync(_multiplexer);
    }

    public const string ConnectionName = "cache";

    public bool IsEnabled => _multiplexer is not null;

    public bool IsAvailable => _multiplexer is { IsConnected: true };

    private IConnectionMultiplexer? Multiplexer => _multiplexer;

    /// <summary>A restarted Redis forgets CONFIG SET, so the bound is applied on every (re)connection.</summary>
    private async Task ApplyMemoryBoundAsync(IConnectionMultiplexer multiplexer)
    {
        if (_options.MaxMemory is null || !multiplexer.IsConnected) return;
        try
        {
            foreach (var endpoint in multiplexer.GetEndPoints())
            {
                var server = multiplexer.GetServer(endpoint);
                await server.ConfigSetAsync("maxmemory", _options.MaxMemory);
                await server.ConfigSetAsync("maxmemory-policy", "allkeys-lru");
            }
        }
        catch (RedisException error)
        {
            _logger.LogWarning(error, "Could not set the score cache's maxmemory to {MaxMemory}", _options.MaxMemory);
        }
    }

    /// <summary>One entry per item: the cached scores, or null on a miss (and for every item when Redis is down).</summary>
    public async Task<ScoredCompletion?[]> GetAsync(TeacherInfo teacher, IReadOnlyList<ScoringItem> items, int topK)
    {
        var found = new ScoredCompletion?[items.Count];
        if (!IsEnabled) return found;
        using var activity = TeacherTelemetry.ActivitySource.StartActivity("teacher.cache.lookup");
        var multiplexer = Multiplexer;
        var available = multiplexer is { IsConnected: true };
        if (available)
        {
            try
            {
                var keys = items.Select(item => Key(teacher, item, topK)).ToArray();
                var values = await multiplexer!.GetDatabase().StringGetAsync(keys);
                for (var i = 0; i < items.Count; i++)
                    found[i] = values[i].IsNull ? null : Decode(values[i]!, items[i].CompletionTokenIds.Length, topK);
            }
            catch (RedisException error)
            {
                available = false;
                _logger.LogDebug(error, "Score cache lookup failed; treating {Count} sequences as misses", items.Count);
            }
        }
        var hits = found.Count(scored => scored is not null);
        _telemetry.RecordCacheLookups(hits, items.Count - hits, available);
        activity?.SetTag("teacher.cache.available", available);
        activity?.SetTag("teacher.cache.hits", hits);
        activity?.SetTag("teacher.cache.misses", items.Count - hits);
        return found;
    }

    /// <summary>Stores without waiting for Redis: the caller's answer is ready and must not wait on the cache.</summary>
    public void Set(TeacherInfo teacher, IReadOnlyList<ScoringItem> items, IReadOnlyList<ScoredCompletion> scores, int topK)
    {
        if (Multiplexer is not { IsConnected: true } multiplexer) return;
        try
        {
            var database = multiplexer.GetDatabase();
            for (var i = 0; i < items.Count; i++)
                database.StringSet(Key(teacher, items[i], topK), Encode(scores[i], topK), _options.TimeToLive, flags: CommandFlags.FireAndForget);
        }
        catch (RedisException error)
        {
            _logger.LogDebug(error, "Score cache write failed; {Count} sequences not cached", items.Count);
        }
    }

    /// <summary>
    /// <c>distill:teacher:{fingerprint}:k{k}:{sha256}</c>. The fingerprint covers everything that changes the numbers:
    /// backend, weights, tokenizer, and the backend's numerics (dtype, device class); it never holds a secret. The
    /// hash covers both lengths and every id, so the same ids split differently into prompt and completion differ.
    /// </summary>
    internal static RedisKey Key(TeacherInfo teacher, ScoringItem item, int topK)
    {
        var buffer = new byte[sizeof(int) * (2 + item.PromptTokenIds.Length + item.CompletionTokenIds.Length)];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span, item.PromptTokenIds.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], item.CompletionTokenIds.Length);
        var offset = 8;
        foreach (var id in item.PromptTokenIds.Concat(item.CompletionTokenIds))
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[offset..], id);
            offset += 4;
        }
        return $"distill:teacher:{teacher.Fingerprint}:k{topK}:{Convert.ToHexStringLower(SHA256.HashData(buffer))}";
    }

    private const byte FormatVersion = 1;

    /// <summary>Version byte, completion length, k, then the log-probs and k (id, log-prob) pairs per position; little-endian.</summary>
    internal static byte[] Encode(ScoredCompletion scored, int topK)
    {
        var length = scored.LogProbs.Length;
        var value = new byte[1 + 4 + 4 + 4 * length + 8 * length * topK];
        value[0] = FormatVersion;
        BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(1), length);
        BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(5), topK);
        var offset = 9;
        foreach (var logProb in scored.LogProbs)
        {
            BinaryPrimitives.WriteSingleLittleEndian(value.AsSpan(offset), logProb);
            offset += 4;
        }
        for (var t = 0; t < length && topK > 0; t++)
        {
            foreach (var candidate in scored.TopK![t])
            {
                BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(offset), candidate.TokenId);
                BinaryPrimitives.WriteSingleLittleEndian(value.AsSpan(offset + 4), candidate.LogProb);
                offset += 8;
            }
        }
        Debug.Assert(offset == value.Length);
        return value;
    }

    /// <summary>Null when the value does not have exactly the expected shape: a miss is always safe, a wrong score never is.</summary>
    internal static ScoredCompletion? Decode(byte[] value, int expectedLength, int expectedTopK)
    {
        if (value.Length < 9 || value[0] != FormatVersion) return null;
        var length = BinaryPrimitives.ReadInt32LittleEndian(value.AsSpan(1));
        var topK = BinaryPrimitives.ReadInt32LittleEndian(value.AsSpan(5));
        if (length != expectedLength || topK != expectedTopK || value.Length != 9 + 4L * length + 8L * length * topK) return null;
        var logProbs = new float[length];
        for (var t = 0; t < length; t++)
            logProbs[t] = BinaryPrimitives.ReadSingleLittleEndian(value.AsSpan(9 + 4 * t));
        if (topK == 0) return new ScoredCompletion(logProbs, null);
        var candidates = new TokenLogProb[length][];
        var offset = 9 + 4 * length;
        for (var t = 0; t < length; t++)
        {
            candidates[t] = new TokenLogProb[topK];
            for (var j = 0; j < topK; j++, offset += 8)
                candidates[t][j] = new TokenLogProb(BinaryPrimitives.ReadInt32LittleEndian(value.AsSpan(offset)),
                    BinaryPrimitives.ReadSingleLittleEndian(value.AsSpan(offset + 4)));
        }
        return new ScoredCompletion(logProbs, candidates);
    }
}

/// <summary>The score cache's wiring: the Aspire Redis client when <c>ConnectionStrings:cache</c> is set.</summary>
public static class TeacherCacheExtensions
{
    public static IHostApplicationBuilder AddScoreCache(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ScoreCache>();
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(ScoreCache.ConnectionName))) return builder;

        var cache = builder.Configuration.GetSection($"{TeacherOptions.SectionName}:Cache").Get<ScoreCacheOptions>() ?? new();
        builder.AddRedisClient(ScoreCache.ConnectionName, configureOptions: redis =>
        {
            // Start without Redis and keep retrying in the background: the cache must never keep the service down.
            redis.AbortOnConnectFail = false;
            redis.AllowAdmin |= cache.MaxMemory is not null;
            var timeout = (int)cache.OperationTimeout.TotalMilliseconds;
            redis.AsyncTimeout = timeout;
            redis.SyncTimeout = timeout;
            redis.ConnectTimeout = Math.Max(timeout, 1_000);
            redis.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 250, maxDeltaBackOffMilliseconds: 5_000);
        });
        // The integration's check reports Unhealthy when Redis is down; for the teacher that only costs speed, so it
        // stays in rotation as Degraded, saying why.
        builder.Services.Configure<HealthCheckServiceOptions>(health =>
        {
            foreach (var check in health.Registrations.Where(r => r.Name.StartsWith("StackExchange.Redis", StringComparison.Ordinal)))
                check.FailureStatus = HealthStatus.Degraded;
        });
        return builder;
    }
}
