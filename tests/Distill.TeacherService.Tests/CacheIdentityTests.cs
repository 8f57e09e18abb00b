using Distill.Core.Contracts;
using Distill.Testing;

namespace Distill.TeacherService.Tests;

/// <summary>
/// Issue 15: the same weights served in bfloat16 were answered from the entries float32 had written. Each precision
/// must have its own fingerprint and cache entries, in a real redis-server both services share.
/// </summary>
public sealed class CacheIdentityTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task Bfloat16AndFloat32OfTheSameWeightsDoNotShareCacheEntries()
    {
        using var checkpoint = new TeacherCheckpoint();
        var request = new ScoreRequest([.. Enumerable.Range(0, 16).Select(_ => ScoringTests.RandomSequence(checkpoint.VocabularySize))], TopK: 3);

        ScoreResponse float32;
        await using (var host = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory, redis)))
        {
            await host.WaitUntilReadyAsync();
            using var http = host.CreateHttpClient();
            float32 = await ScoringTests.ScoreAsync(http, request);
            Assert.All(float32.Sequences, s => Assert.False(s.Cached));
            // Written without waiting: the same request again is answered from Redis once the entries are there.
            Assert.True(await AllCachedWithinAsync(http, request), "float32's own scores never came from the cache");
        }

        var settings = TeacherHost.Settings(checkpoint.Directory, redis);
        settings["Teacher:Torch:DType"] = "bfloat16";
        await using (var host = TeacherHost.Start(settings))
        {
            await host.WaitUntilReadyAsync();
            using var http = host.CreateHttpClient();
            using var passes = host.CountForwardPasses();
            var bfloat16 = await ScoringTests.ScoreAsync(http, request);

            Assert.All(bfloat16.Sequences, s => Assert.False(s.Cached));
            Assert.True(passes.Count > 0, "bfloat16 ran no forward pass: its scores came from float32's entries");
            Assert.NotEqual(float32.TeacherFingerprint, bfloat16.TeacherFingerprint);
            var largest = float32.Sequences.Zip(bfloat16.Sequences)
                .SelectMany(pair => pair.First.LogProbs.Zip(pair.Second.LogProbs, (a, b) => Math.Abs(a - b))).Max();
            Assert.True(largest > 1e-4, $"bfloat16 and float32 log-probs differ by at most {largest}: not bfloat16's own");
            Assert.True(await AllCachedWithinAsync(http, request), "bfloat16's own scores never came from the cache");
        }
    }

    private static async Task<bool> AllCachedWithinAsync(HttpClient http, ScoreRequest request)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if ((await ScoringTests.ScoreAsync(http, request)).Sequences.All(s => s.Cached)) return true;
            await Task.Delay(50);
        }
        return false;
    }
}
