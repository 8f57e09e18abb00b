using Distill.Testing;
using System.Net;
using System.Net.Http.Json;
using Distill.Core.Contracts;
using Distill.Core.Scoring;
using Distill.Core.Tokenization;

namespace Distill.TeacherService.Tests;

public sealed class ScoringTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    /// <summary>
    /// The service may batch a sequence with others (other padding, other matrix shapes), so its float32 sums can
    /// round differently from a pass of the request alone; by no more than this. Which batch a request joins depends
    /// on timing: one CI run saw 1.7e-5 nats on a log-prob of −5.2 (1e-5 was too tight). A padding or masking error
    /// would move them by orders of magnitude more.
    /// </summary>
    internal const double SameModelTolerance = 1e-4;

    private static readonly Random Random = new(11);

    internal static ScoreSequence RandomSequence(int vocabularySize, int promptLength = 5, int completionLength = 9) => new(
        Enumerable.Range(0, promptLength).Select(_ => Random.Next(vocabularySize)).ToArray(),
        Enumerable.Range(0, completionLength).Select(_ => Random.Next(vocabularySize)).ToArray());

    internal static async Task<ScoreResponse> ScoreAsync(HttpClient http, ScoreRequest request)
    {
        using var response = await http.PostAsJsonAsync("/v1/score", request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ScoreResponse>())!;
    }

    /// <summary>The service's answer must be what the scorer computes in process, candidate for candidate.</summary>
    internal static async Task AssertMatchesInProcessAsync(ISequenceScorer scorer, ScoreRequest request, ScoreResponse response,
        double tolerance = SameModelTolerance)
    {
        var expected = await scorer.ScoreAsync(request.Sequences.Select(s => new ScoringItem(s.PromptTokenIds, s.CompletionTokenIds)).ToArray(), request.TopK);
        AssertSameScores(expected.Select(e => (e.LogProbs, e.TopK?.Select(p => p.Select(c => new TokenCandidate(c.TokenId, c.LogProb)).ToArray()).ToArray())).ToArray(),
            response, request.TopK, tolerance);
    }

    internal static void AssertSameScores(IReadOnlyList<(float[] LogProbs, TokenCandidate[][]? TopK)> expected, ScoreResponse response, int topK, double tolerance)
    {
        Assert.Equal(expected.Count, response.Sequences.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var actual = response.Sequences[i];
            Assert.Equal(expected[i].LogProbs.Length, actual.LogProbs.Length);
            for (var t = 0; t < actual.LogProbs.Length; t++)
                Assert.InRange(actual.LogProbs[t], expected[i].LogProbs[t] - tolerance, expected[i].LogProbs[t] + tolerance);
            if (topK == 0)
            {
                Assert.Null(actual.TopK);
                continue;
            }
            for (var t = 0; t < actual.LogProbs.Length; t++)
                AssertSameCandidates(expected[i].TopK![t], actual.TopK![t], tolerance);
        }
    }

    /// <summary>The same token at every rank, unless two candidates are closer than the tolerance and may trade places.</summary>
    private static void AssertSameCandidates(TokenCandidate[] expected, TokenCandidate[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var j = 0; j < expected.Length; j++)
        {
            Assert.InRange(actual[j].LogProb, expected[j].LogProb - tolerance, expected[j].LogProb + tolerance);
            if (actual[j].TokenId == expected[j].TokenId) continue;
            var tied = expected.Any(other => other.TokenId == actual[j].TokenId && Math.Abs(other.LogProb - expected[j].LogProb) <= 2 * tolerance);
            Assert.True(tied, $"rank {j}: token {actual[j].TokenId}, expected {expected[j].TokenId}");
        }
    }

    [Fact]
    public async Task ScoresEqualTheInProcessLogProbs()
    {
        using var checkpoint = new TeacherCheckpoint();
        await using var host = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory, redis));
        await host.WaitUntilReadyAsync();
        using var http = host.CreateHttpClient();

        foreach (var topK in new[] { 0, 1, 20 })
        {
            var request = new ScoreRequest([RandomSequence(checkpoint.VocabularySize), RandomSequence(checkpoint.VocabularySize, 1, 30)], topK);
            await AssertMatchesInProcessAsync(checkpoint.InProcess, request, await ScoreAsync(http, request));
        }
    }

    [Fact]
    public async Task RepeatedRequestIsServedFromTheCacheWithoutAForwardPass()
    {
        using var checkpoint = new TeacherCheckpoint(seed: 8);
        await using var host = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory, redis));
        await host.WaitUntilReadyAsync();
        using var forwardPasses = host.CountForwardPasses();
        using var http = host.CreateHttpClient();
        var request = new ScoreRequest([RandomSequence(checkpoint.VocabularySize), RandomSequence(checkpoint.VocabularySize)], TopK: 5);

        var first = await ScoreAsync(http, request);
        var passes = forwardPasses.Count;
        var second = await ScoreAsync(http, request);

        Assert.All(first.Sequences, s => Assert.False(s.Cached));
        Assert.All(second.Sequences, s => Assert.True(s.Cached));
        Assert.InRange(passes, 1, 2);
        Assert.Equal(passes, forwardPasses.Count);
        for (var i = 0; i < first.Sequences.Count; i++)
        {
            Assert.Equal(first.Sequences[i].LogProbs, second.Sequences[i].LogProbs);
            Assert.Equal(first.Sequences[i].TopK!.SelectMany(p => p), second.Sequences[i].TopK!.SelectMany(p => p));
        }
    }

    [Fact]
    public async Task CachedScoresAreNeverServedForAnotherKOrAnotherTeacher()
    {
        using var checkpoint = new TeacherCheckpoint(seed: 21);
        var request = new ScoreRequest([RandomSequence(checkpoint.VocabularySize)], TopK: 3);
        string firstFingerprint;
        await using (var host = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory, redis)))
        {
            await host.WaitUntilReadyAsync();
            using var http = host.CreateHttpClient();
            firstFingerprint = (await ScoreAsync(http, request)).TeacherFingerprint;
            var otherK = await ScoreAsync(http, request with { TopK = 4 });
            Assert.False(otherK.Sequences[0].Cached);
            Assert.Equal(4, otherK.Sequences[0].TopK![0].Length);
        }

        // Same Redis, directory, model id, tokenizer, token ids and k; only the weights differ: recomputed, not read back.
        checkpoint.Write(seed: 22);
        await using var retrained = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory, redis));
        await retrained.WaitUntilReadyAsync();
        using var retrainedHttp = retrained.CreateHttpClient();
        var response = await ScoreAsync(retrainedHttp, request);
        Assert.False(response.Sequences[0].Cached);
        Assert.NotEqual(firstFingerprint, response.TeacherFingerprint);
        await AssertMatchesInProcessAsync(checkpoint.InProcess, request, response);
    }

    [Fact]
    public async Task ThirtyTwoConcurrentClientsGetCorrectScoresFromBatchedForwardPasses()
    {
        using var checkpoint = new TeacherCheckpoint(seed: 9);
        var settings = TeacherHost.Settings(checkpoint.Directory, redis);
        settings["Teacher:Batching:BatchWindow"] = "00:00:00.050";
        await using var host = TeacherHost.Start(settings);
        await host.WaitUntilReadyAsync();
        using var forwardPasses = host.CountForwardPasses();
        var requests = Enumerable.Range(0, 32)
            .Select(i => new ScoreRequest([RandomSequence(checkpoint.VocabularySize, 2 + i % 5, 5 + i % 7)], TopK: i % 4))
            .ToArray();

        var responses = await Task.WhenAll(requests.Select(async request =>
        {
            using var http = host.CreateHttpClient();
            return await ScoreAsync(http, request);
        }));

        for (var i = 0; i < requests.Length; i++)
            await AssertMatchesInProcessAsync(checkpoint.InProcess, requests[i], responses[i]);
        Assert.InRange(forwardPasses.Count, 1, requests.Length / 2);
    }

    [Fact]
    public async Task TeacherEndpointDescribesTheLoadedModel()
    {
        using var checkpoint = new TeacherCheckpoint(maxContext: 40);
        await using var host = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory));
        await host.WaitUntilReadyAsync();
        using var http = host.CreateHttpClient();

        var info = await http.GetFromJsonAsync<TeacherInfo>("/v1/teacher");

        Assert.Equal(("torch", "tiny-teacher", CharTokenizer.Default.Fingerprint, 64, 40, 64),
            (info!.Backend, info.ModelId, info.TokenizerFingerprint, info.VocabularySize, info.MaxContext, info.MaxTopK));
        Assert.Matches("^[0-9a-f]{64}$", info.WeightsFingerprint);
        Assert.Matches("^[0-9a-f]{32}$", info.Fingerprint);
    }
}
