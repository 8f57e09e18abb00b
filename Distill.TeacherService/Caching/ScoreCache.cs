using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using Distill.Core.Contracts;
using Distill.Core.Scoring;
using Distill.TeacherService.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Distill.TeacherService.Caching;

/// <summary>
/// Scores in Redis, keyed by teacher fingerprint, k and a hash of the token ids. The cache is an optimisation only:
/// when Redis is down, lookups report misses at once and writes are dropped, and StackExchange.Redis reconnects on
/// its own when Redis is back.
/// </summary>
public sealed class ScoreCache : IAsyncDisposable
{
    private readonly ScoreCacheOptions _options;
    private readonly TeacherTelemetry _telemetry;
    private readonly ILogger<ScoreCache> _logger;
    private readonly Task<ConnectionMultiplexer>? _connection;

    public ScoreCache(IConfiguration configuration, IOptions<TeacherOptions> options, TeacherTelemetry telemetry, ILogger<ScoreCache> logger)
    {
        _options = options.Value.Cache;
        _telemetry = telemetry;
        _logger = logger;
        var connectionString = configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            logger.LogInformation("No ConnectionStrings:{Name}; scoring without a cache", ConnectionName);
            return;
        }
        _connection = ConnectAsync(connectionString);
    }

    public const string ConnectionName = "cache";

    public bool IsEnabled => _connection is not null;

    public bool IsAvailable => Multiplexer is { IsConnected: true };

    private ConnectionMultiplexer? Multiplexer => _connection is { IsCompletedSuccessfully: true } ? _connection.Result : null;

    private async Task<ConnectionMultiplexer> ConnectAsync(string connectionString)
    {
        var configuration = ConfigurationOptions.Parse(connectionString);
        // Start without Redis and keep retrying in the background: the cache must never keep the service down.
        configuration.AbortOnConnectFail = false;
        configuration.AllowAdmin |= _options.MaxMemory is not null;
        var timeout = (int)_options.OperationTimeout.TotalMilliseconds;
        configuration.AsyncTimeout = timeout;
        configuration.SyncTimeout = timeout;
        configuration.ReconnectRetryPolicy ??= new ExponentialRetry(deltaBackOffMilliseconds: 250, maxDeltaBackOffMilliseconds: 5_000);

        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
        multiplexer.ConnectionFailed += (_, e) =>
            _logger.LogWarning(e.Exception, "Score cache unavailable ({FailureType}); scoring goes on without it", e.FailureType);
        multiplexer.ConnectionRestored += (_, _) =>
        {
            _logger.LogInformation("Score cache connection restored");
            _ = ApplyMemoryBoundAsync(multiplexer);
        };
        await ApplyMemoryBoundAsync(multiplexer);
        return multiplexer;
    }

    /// <summary>A restarted Redis forgets CONFIG SET, so the bound is applied on every (re)connection.</summary>
    private async Task ApplyMemoryBoundAsync(ConnectionMultiplexer multiplexer)
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

    public async ValueTask DisposeAsync()
    {
        if (Multiplexer is { } multiplexer) await multiplexer.DisposeAsync();
    }
}

/// <summary>Degraded, not Unhealthy, when Redis is unreachable: the service still scores correctly, only slower.</summary>
public sealed class ScoreCacheHealthCheck(ScoreCache cache) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(cache switch
        {
            { IsEnabled: false } => HealthCheckResult.Healthy("no cache configured"),
            { IsAvailable: true } => HealthCheckResult.Healthy("connected"),
            _ => HealthCheckResult.Degraded("Redis unreachable; scoring without the cache"),
        });
}
