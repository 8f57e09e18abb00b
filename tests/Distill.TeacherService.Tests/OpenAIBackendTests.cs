using Distill.Testing;
using System.Net.Http.Json;
using Distill.Core.Contracts;

namespace Distill.TeacherService.Tests;

/// <summary>
/// The openai backend, verified against this service's own OpenAI-compatible <c>/v1/completions</c>: host A scores
/// with its torch backend over a real checkpoint, host B (a second real Kestrel host) scores through A as a remote OpenAI-compatible server.
/// </summary>
public sealed class OpenAIBackendTests
{
    [Theory]
    [InlineData("Echo")]
    [InlineData("PromptLogProbs")]
    public async Task OpenAIBackendAgainstThisServicesOwnCompletionsEndpointInASecondKestrelHostMatchesInProcessScores(string mode)
    {
        using var checkpoint = new TeacherCheckpoint(seed: 41);
        await using var upstream = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory));
        await upstream.WaitUntilReadyAsync();
        await using var proxy = TeacherHost.Start(new Dictionary<string, string?>
        {
            ["Teacher:Backend"] = "openai",
            ["Teacher:OpenAI:BaseAddress"] = upstream.Address.ToString(),
            ["Teacher:OpenAI:Mode"] = mode,
        });
        await proxy.WaitUntilReadyAsync();
        using var http = proxy.CreateHttpClient();

        foreach (var topK in new[] { 0, 5 })
        {
            var request = new ScoreRequest(
                [ScoringTests.RandomSequence(checkpoint.VocabularySize), ScoringTests.RandomSequence(checkpoint.VocabularySize, 1, 12)], topK);
            await ScoringTests.AssertMatchesInProcessAsync(checkpoint.InProcess, request, await ScoringTests.ScoreAsync(http, request));
        }

        var upstreamInfo = await upstream.CreateHttpClient().GetFromJsonAsync<TeacherInfo>("/v1/teacher");
        var proxyInfo = await http.GetFromJsonAsync<TeacherInfo>("/v1/teacher");
        Assert.Equal("openai", proxyInfo!.Backend);
        Assert.Equal((upstreamInfo!.ModelId, upstreamInfo.WeightsFingerprint, upstreamInfo.TokenizerFingerprint, upstreamInfo.VocabularySize),
            (proxyInfo.ModelId, proxyInfo.WeightsFingerprint, proxyInfo.TokenizerFingerprint, proxyInfo.VocabularySize));
        // Another backend may round differently, so its scores are cached apart from the upstream's.
        Assert.NotEqual(upstreamInfo.Fingerprint, proxyInfo.Fingerprint);
    }

    [Fact]
    public async Task CompletionsEndpointEchoesOpenAIShapedPromptLogProbs()
    {
        using var checkpoint = new TeacherCheckpoint(seed: 42);
        await using var host = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory));
        await host.WaitUntilReadyAsync();
        using var http = host.CreateHttpClient();

        using var response = await http.PostAsJsonAsync("/v1/completions", new
        {
            model = "tiny-teacher", prompt = new[] { 3, 1, 4, 1, 5 }, max_tokens = 0, echo = true, logprobs = 2,
        });
        var completion = (await response.Content.ReadFromJsonAsync<CompletionResponse>())!;

        var logProbs = completion.Choices.Single().LogProbs!;
        var expected = (await checkpoint.InProcess.ScoreAsync([new([3], [1, 4, 1, 5])], 2))[0];
        Assert.Equal(["token_id:3", "token_id:1", "token_id:4", "token_id:1", "token_id:5"], logProbs.Tokens);
        Assert.Null(logProbs.TokenLogProbs[0]);
        Assert.Equal(expected.LogProbs.Select(p => (float?)p), logProbs.TokenLogProbs.Skip(1));
        Assert.Null(logProbs.TopLogProbs![0]);
        for (var t = 1; t < 5; t++)
            Assert.All(expected.TopK![t - 1], c => Assert.Equal(c.LogProb, logProbs.TopLogProbs[t]![TokenIdText.Format(c.TokenId)]));
        Assert.Equal(5, completion.Usage.PromptTokens);
    }
}
