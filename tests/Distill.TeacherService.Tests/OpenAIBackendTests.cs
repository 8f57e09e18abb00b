using Distill.Testing;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Distill.Core.Contracts;
using Distill.TeacherService.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Distill.TeacherService.Tests;

/// <summary>
/// The openai backend, verified against this service's own OpenAI-compatible <c>/v1/completions</c>, which refuses at
/// least what vLLM refuses: host A scores with its torch backend over a real checkpoint, host B (a second real Kestrel
/// host) scores through A as a remote OpenAI-compatible server. A is either a Distill teacher (it has
/// <c>/v1/teacher</c>) or a <see cref="VllmImitation"/> (it has not, and may require an API key).
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

    [Theory]
    [InlineData("Echo")]
    [InlineData("PromptLogProbs")]
    public async Task AgainstAVllmImitationWithoutTeacherEndpointTheModelComesFromModelsAndTheRestFromConfiguration(string mode)
    {
        using var checkpoint = new TeacherCheckpoint(seed: 43);
        await using var upstream = VllmImitation.Start(checkpoint.Directory);
        await upstream.WaitUntilReadyAsync();
        // The student's tokenizer fingerprint, as a user would copy it from the trainer's refusal message.
        var upstreamInfo = upstream.Services.GetRequiredService<TeacherModel>().Current!.Info;
        using (var teacher = await upstream.CreateHttpClient().GetAsync("/v1/teacher"))
            Assert.Equal(HttpStatusCode.NotFound, teacher.StatusCode);

        await using var proxy = TeacherHost.Start(new Dictionary<string, string?>
        {
            ["Teacher:Backend"] = "openai",
            ["Teacher:OpenAI:BaseAddress"] = upstream.Address.ToString(),
            ["Teacher:OpenAI:Mode"] = mode,
            ["Teacher:OpenAI:VocabularySize"] = checkpoint.VocabularySize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Teacher:OpenAI:TokenizerFingerprint"] = upstreamInfo.TokenizerFingerprint,
            ["Teacher:OpenAI:MaxLogProbs"] = "7",
        });
        await proxy.WaitUntilReadyAsync();
        using var http = proxy.CreateHttpClient();

        var info = (await http.GetFromJsonAsync<TeacherInfo>("/v1/teacher"))!;
        Assert.Equal(("openai", upstreamInfo.ModelId, $"{upstream.Address}#{upstreamInfo.ModelId}", upstreamInfo.TokenizerFingerprint),
            (info.Backend, info.ModelId, info.WeightsFingerprint, info.TokenizerFingerprint));
        // The context from /v1/models' max_model_len; the top-k limit from MaxLogProbs, so a trainer learns it at start.
        Assert.Equal((checkpoint.VocabularySize, upstreamInfo.MaxContext, 7), (info.VocabularySize, info.MaxContext, info.MaxTopK));

        foreach (var topK in new[] { 0, 5, 7 })
        {
            var request = new ScoreRequest(
                [ScoringTests.RandomSequence(checkpoint.VocabularySize), ScoringTests.RandomSequence(checkpoint.VocabularySize, 1, 12)], topK);
            await ScoringTests.AssertMatchesInProcessAsync(checkpoint.InProcess, request, await ScoringTests.ScoreAsync(http, request));
        }
        using var tooMany = await http.PostAsJsonAsync("/v1/score",
            new ScoreRequest([ScoringTests.RandomSequence(checkpoint.VocabularySize)], TopK: 8));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("topK", await tooMany.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AgainstAVllmImitationTheVocabularySizeMustBeConfigured()
    {
        using var checkpoint = new TeacherCheckpoint(seed: 44);
        await using var upstream = VllmImitation.Start(checkpoint.Directory);
        await upstream.WaitUntilReadyAsync();
        var error = await LoadErrorAsync(new Dictionary<string, string?>
        {
            ["Teacher:Backend"] = "openai",
            ["Teacher:OpenAI:BaseAddress"] = upstream.Address.ToString(),
            ["Teacher:OpenAI:TokenizerFingerprint"] = "student-tokenizer",
        });
        Assert.Contains("Teacher:OpenAI:VocabularySize", error.Message);
    }

    [Fact]
    public async Task AnUpstreamThatRequiresTheApiKeyRefusesWithoutItAndScoresWithItAndTheKeyIsNeverLogged()
    {
        const string apiKey = "sk-distill-test-5f0c2a9e";
        using var checkpoint = new TeacherCheckpoint(seed: 45);
        await using var upstream = VllmImitation.Start(checkpoint.Directory, apiKey);
        await upstream.WaitUntilReadyAsync();
        var upstreamInfo = upstream.Services.GetRequiredService<TeacherModel>().Current!.Info;
        using (var bare = await upstream.CreateHttpClient().GetAsync("/v1/models"))
            Assert.Equal(HttpStatusCode.Unauthorized, bare.StatusCode);

        Dictionary<string, string?> Settings(string? key) => new()
        {
            ["Teacher:Backend"] = "openai",
            ["Teacher:OpenAI:BaseAddress"] = upstream.Address.ToString(),
            ["Teacher:OpenAI:VocabularySize"] = checkpoint.VocabularySize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Teacher:OpenAI:TokenizerFingerprint"] = upstreamInfo.TokenizerFingerprint,
            ["Teacher:OpenAI:ApiKey"] = key,
            // Everything, HTTP client traffic included, so a leak would show.
            ["Logging:LogLevel:Default"] = "Trace",
        };

        Assert.Contains("401", (await LoadErrorAsync(Settings(null))).Message);

        var logs = new RecordingLoggerProvider();
        await using var proxy = TeacherHost.Start(Settings(apiKey), services: services => services.AddSingleton<ILoggerProvider>(logs));
        await proxy.WaitUntilReadyAsync();
        using var http = proxy.CreateHttpClient();
        var request = new ScoreRequest([ScoringTests.RandomSequence(checkpoint.VocabularySize)], TopK: 3);
        await ScoringTests.AssertMatchesInProcessAsync(checkpoint.InProcess, request, await ScoringTests.ScoreAsync(http, request));

        Assert.DoesNotContain(apiKey, await http.GetStringAsync("/v1/teacher"));
        Assert.DoesNotContain(apiKey, proxy.Services.GetRequiredService<IOptions<TeacherOptions>>().Value.OpenAI.ToString());
        // The HTTP client logs its requests' headers at Trace, the Authorization header among them: its value redacted.
        Assert.Contains(logs.Lines, line => line.Contains("/v1/completions", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, line => line.Contains("Authorization", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Contains(apiKey, StringComparison.Ordinal));
    }

    /// <summary>
    /// The reason a host with <paramref name="settings"/> fails to load its teacher. A failed load stops the host and
    /// disposes its services, so the load waits behind a gate until the test holds the <see cref="TeacherModel"/>.
    /// </summary>
    private static async Task<Exception> LoadErrorAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = TeacherHost.Start(settings, gate.Task);
        var model = host.Services.GetRequiredService<TeacherModel>();
        gate.SetResult();
        return await Assert.ThrowsAnyAsync<Exception>(() => model.WhenLoaded.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    /// <summary>Every log line and exception the host writes, at every level.</summary>
    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

        public void Dispose() { }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{category}: {formatter(state, exception)} {exception} {state}");
        }
    }
}
