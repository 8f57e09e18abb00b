using System.Net;
using System.Net.Http.Json;
using Distill.Core.Contracts;
using Distill.Core.Scoring;

namespace Distill.TeacherService.Tests;

public sealed class ScoringTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly Random Random = new(11);

    internal static ScoreSequence RandomSequence(int vocabularySize, int promptLength = 5, int completionLength = 9) => new(
        Enumerable.Range(0, promptLength).Select(_ => Random.Next(vocabularySize)).ToArray(),
        Enumerable.Range(0, completionLength).Select(_ => Random.Next(vocabularySize)).ToArray());

    internal static async Task<ScoreResponse> ScoreAsync(HttpClient http, ScoreRequest request)
    {
        using var response = await http.PostAsJsonAsync("/v1/score", request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ScoreResponse>())!;
    }

    /// <summary>The service's answer must be what the scorer computes in process, candidate for candidate.</summary>
    internal static async Task AssertMatchesInProcessAsync(ISequenceScorer scorer, ScoreRequest request, ScoreResponse response)
    {
        var expected = await scorer.ScoreAsync(request.Sequences.Select(s => new ScoringItem(s.PromptTokenIds, s.CompletionTokenIds)).ToArray(), request.TopK);
        Assert.Equal(request.Sequences.Count, response.Sequences.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].LogProbs, response.Sequences[i].LogProbs);
            if (request.TopK == 0)
            {
                Assert.Null(response.Sequences[i].TopK);
                continue;
            }
            var actualTopK = response.Sequences[i].TopK!;
            for (var t = 0; t < expected[i].LogProbs.Length; t++)
                Assert.Equal(expected[i].TopK![t].Select(c => (c.TokenId, c.LogProb)), actualTopK[t].Select(c => (c.TokenId, c.LogProb)));
        }
    }

    [Fact]
    public async Task ScoresEqualTheInProcessLogProbs()
    {
        using var teacher = new BigramTeacher();
        await using var host = TeacherHost.Start(TeacherHost.Settings(redis), teacher);
        await host.WaitUntilReadyAsync();
        using var http = host.CreateHttpClient();

        foreach (var topK in new[] { 0, 1, 20 })
        {
            var request = new ScoreRequest([RandomSequence(teacher.VocabularySize), RandomSequence(teacher.VocabularySize, 1, 30)], topK);
            await AssertMatchesInProcessAsync(teacher, request, await ScoreAsync(http, request));
        }
    }

    [Fact]
    public async Task RepeatedRequestIsServedFromTheCacheWithoutAForwardPass()
    {
        using var teacher = new BigramTeacher(seed: 8);
        await using var host = TeacherHost.Start(TeacherHost.Settings(redis), teacher);
        await host.WaitUntilReadyAsync();
        using var http = host.CreateHttpClient();
        var request = new ScoreRequest([RandomSequence(teacher.VocabularySize), RandomSequence(teacher.VocabularySize)], TopK: 5);

        var first = await ScoreAsync(http, request);
        var passes = teacher.ForwardPasses;
        var second = await ScoreAsync(http, request);

        Assert.All(first.Sequences, s => Assert.False(s.Cached));
        Assert.All(second.Sequences, s => Assert.True(s.Cached));
        Assert.Equal(passes, teacher.ForwardPasses);
        for (var i = 0; i < first.Sequences.Count; i++)
        {
            Assert.Equal(first.Sequences[i].LogProbs, second.Sequences[i].LogProbs);
            Assert.Equal(first.Sequences[i].TopK!.SelectMany(p => p), second.Sequences[i].TopK!.SelectMany(p => p));
        }
    }

    [Fact]
    public async Task CachedScoresAreNeverServedForAnotherKOrAnotherTeacher()
    {
        var request = new ScoreRequest([RandomSequence(97)], TopK: 3);
        using (var teacher = new BigramTeacher(seed: 21))
        await using (var host = TeacherHost.Start(TeacherHost.Settings(redis), teacher))
        {
            await host.WaitUntilReadyAsync();
            using var http = host.CreateHttpClient();
            await ScoreAsync(http, request);
            var otherK = await ScoreAsync(http, request with { TopK = 4 });
            Assert.False(otherK.Sequences[0].Cached);
            Assert.Equal(4, otherK.Sequences[0].TopK![0].Length);
        }

        // Same Redis, same token ids and k, different weights: must be recomputed, not read back.
        using var otherTeacher = new BigramTeacher(seed: 22);
        await using var otherHost = TeacherHost.Start(TeacherHost.Settings(redis), otherTeacher);
        await otherHost.WaitUntilReadyAsync();
        using var otherHttp = otherHost.CreateHttpClient();
        var response = await ScoreAsync(otherHttp, request);
        Assert.False(response.Sequences[0].Cached);
        await AssertMatchesInProcessAsync(otherTeacher, request, response);
    }

    [Fact]
    public async Task ThirtyTwoConcurrentClientsGetCorrectScoresFromBatchedForwardPasses()
    {
        using var teacher = new BigramTeacher(seed: 9);
        var settings = TeacherHost.Settings(redis);
        settings["Teacher:Batching:BatchWindow"] = "00:00:00.050";
        await using var host = TeacherHost.Start(settings, teacher);
        await host.WaitUntilReadyAsync();
        var requests = Enumerable.Range(0, 32)
            .Select(i => new ScoreRequest([RandomSequence(teacher.VocabularySize, 2 + i % 5, 5 + i % 7)], TopK: i % 4))
            .ToArray();

        var responses = await Task.WhenAll(requests.Select(async request =>
        {
            using var http = host.CreateHttpClient();
            return await ScoreAsync(http, request);
        }));

        for (var i = 0; i < requests.Length; i++)
            await AssertMatchesInProcessAsync(teacher, requests[i], responses[i]);
        // The in-process reference above ran 32 passes of its own; the service needed fewer than one per client.
        Assert.InRange(teacher.ForwardPasses - requests.Length, 1, requests.Length / 2);
    }

    [Fact]
    public async Task TeacherEndpointDescribesTheLoadedModel()
    {
        using var teacher = new BigramTeacher(vocabularySize: 50, maxContext: 40);
        await using var host = TeacherHost.Start(TeacherHost.Settings(), teacher);
        await host.WaitUntilReadyAsync();
        using var http = host.CreateHttpClient();

        var info = await http.GetFromJsonAsync<TeacherInfo>("/v1/teacher");

        Assert.Equal(("torch", "bigram-test", "bigram-seed-7", "test-tokenizer", 50, 40, 20),
            (info!.Backend, info.ModelId, info.WeightsFingerprint, info.TokenizerFingerprint, info.VocabularySize, info.MaxContext, info.MaxTopK));
        Assert.Matches("^[0-9a-f]{32}$", info.Fingerprint);
    }
}
