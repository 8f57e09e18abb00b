using Distill.Testing;
using System.Net;
using Distill.Core.Contracts;

namespace Distill.TeacherService.Tests;

/// <summary>Its own class, so killing Redis here cannot disturb tests that share another fixture's server.</summary>
public sealed class CacheOutageTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task RedisKilledMidTestScoringGoesOnAndCachingResumesWhenRedisIsBack()
    {
        using var checkpoint = new TeacherCheckpoint(seed: 31);
        await using var host = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory, redis));
        await host.WaitUntilReadyAsync();
        using var http = host.CreateHttpClient();
        var request = new ScoreRequest([ScoringTests.RandomSequence(checkpoint.VocabularySize)], TopK: 2);
        await ScoringTests.ScoreAsync(http, request);
        Assert.True((await ScoringTests.ScoreAsync(http, request)).Sequences[0].Cached);

        await redis.KillAsync();
        for (var i = 0; i < 5; i++)
        {
            var response = await ScoringTests.ScoreAsync(http, request);
            Assert.False(response.Sequences[0].Cached);
            await ScoringTests.AssertMatchesInProcessAsync(checkpoint.InProcess, request, response);
        }
        using (var health = await http.GetAsync("/health"))
        {
            // Degraded: still in rotation (200), and saying why.
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Degraded", await health.Content.ReadAsStringAsync());
        }

        await redis.StartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        ScoreResponse again;
        do
        {
            // The restarted Redis is empty: a hit needs one write after the reconnection, then a read.
            await Task.Delay(200);
            again = await ScoringTests.ScoreAsync(http, request);
            await ScoringTests.AssertMatchesInProcessAsync(checkpoint.InProcess, request, again);
        }
        while (!again.Sequences[0].Cached && DateTime.UtcNow < deadline);
        Assert.True(again.Sequences[0].Cached);
        Assert.Equal("Healthy", await http.GetStringAsync("/health"));
    }
}
