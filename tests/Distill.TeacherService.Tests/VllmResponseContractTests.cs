using System.Net;
using System.Text.Json;
using Distill.Core.Contracts;
using Distill.Core.Scoring;
using Distill.TeacherService.Backends;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Refit;

namespace Distill.TeacherService.Tests;

/// <summary>
/// The openai backend reads real vLLM answers. The bodies below are written from vLLM's response schema
/// (<c>entrypoints/openai/completion/protocol.py</c>: CompletionResponse, CompletionResponseChoice,
/// CompletionLogProbs; <c>logprobs.py</c>: Logprob) and from how <c>completion/serving.py</c> fills it for
/// <c>echo</c> + <c>max_tokens</c> 0 with <c>return_tokens_as_token_ids</c>: every field vLLM writes, nulls
/// included; tokens named <c>token_id:N</c> in <c>logprobs</c> and bare ids with decoded text in
/// <c>prompt_logprobs</c>; the first position null; each position holding the prompt's own token (with its true rank,
/// here once outside the top 2) and the top k; <c>finish_reason</c> "length" and one completion token in the usage,
/// from the token vLLM generates and drops. A recording vLLM on Kestrel serves them to the backend's real scorer
/// and Refit client, and keeps the request it got.
/// </summary>
public sealed class VllmResponseContractTests
{
    private const string Model = "Qwen/Qwen2.5-0.5B-Instruct";

    // "Hello" "," " world" "!" in Qwen2.5's tokenizer; the first two are the prompt, the rest the completion.
    private static readonly ScoringItem Item = new([9707, 11], [1879, 0]);

    private const string PromptLogProbs = """
        [
          null,
          {"11": {"logprob": -0.6931471824645996, "rank": 1, "decoded_token": ","},
           "0": {"logprob": -1.3862943649291992, "rank": 2, "decoded_token": "!"}},
          {"1879": {"logprob": -2.3025851249694824, "rank": 3, "decoded_token": " world"},
           "358": {"logprob": -0.5108256340026855, "rank": 1, "decoded_token": " I"},
           "1246": {"logprob": -1.6094379425048828, "rank": 2, "decoded_token": " how"}},
          {"0": {"logprob": -0.10536054521799088, "rank": 1, "decoded_token": "!"},
           "13": {"logprob": -2.995732307434082, "rank": 2, "decoded_token": "."}}
        ]
        """;

    private const string EchoLogProbs = """
        {
          "text_offset": [0, 13, 24, 37],
          "token_logprobs": [null, -0.6931471824645996, -2.3025851249694824, -0.10536054521799088],
          "tokens": ["token_id:9707", "token_id:11", "token_id:1879", "token_id:0"],
          "top_logprobs": [
            null,
            {"token_id:11": -0.6931471824645996, "token_id:0": -1.3862943649291992},
            {"token_id:1879": -2.3025851249694824, "token_id:358": -0.5108256340026855, "token_id:1246": -1.6094379425048828},
            {"token_id:0": -0.10536054521799088, "token_id:13": -2.995732307434082}
          ]
        }
        """;

    /// <summary>A whole non-streaming vLLM completion body; echo mode also returns prompt_logprobs (vLLM asks the engine for them).</summary>
    private static string Response(string logProbs) => $$"""
        {
          "id": "cmpl-3f9a51c07e1d4b2c9d8e6f0a1b2c3d4e",
          "object": "text_completion",
          "created": 1764531200,
          "model": "{{Model}}",
          "choices": [
            {
              "index": 0,
              "text": "Hello, world!",
              "logprobs": {{logProbs}},
              "finish_reason": "length",
              "stop_reason": null,
              "token_ids": null,
              "prompt_logprobs": {{PromptLogProbs}},
              "prompt_token_ids": null
            }
          ],
          "service_tier": null,
          "system_fingerprint": null,
          "usage": {"prompt_tokens": 4, "total_tokens": 5, "completion_tokens": 1, "prompt_tokens_details": null},
          "kv_transfer_params": null
        }
        """;

    [Theory]
    [InlineData("Echo")]
    [InlineData("PromptLogProbs")]
    public async Task VerbatimVllmResponsesScoreTheCompletionTokens(string mode)
    {
        var scoringMode = Enum.Parse<OpenAIScoringMode>(mode);
        await using var vllm = await RecordingVllm.StartAsync(Response(scoringMode == OpenAIScoringMode.Echo ? EchoLogProbs : "null"));
        var info = LoadedTeacher.Describe(TeacherBackends.OpenAI, Model, "revision", "tokenizer", 151_936, 32_768, 20);
        var scorer = new OpenAISequenceScorer(() => RestService.ForGenerated<IOpenAICompletionsApi>(vllm.CreateHttpClient()), info, scoringMode);

        var scored = (await scorer.ScoreAsync([Item], topK: 2)).Single();

        Assert.Equal([-2.3025851249694824f, -0.10536054521799088f], scored.LogProbs);
        Assert.Equal([[new(358, -0.5108256340026855f), new(1246, -1.6094379425048828f)], [new(0, -0.10536054521799088f), new(13, -2.995732307434082f)]],
            scored.TopK!.Select(position => position.ToArray()).ToArray());

        // What vLLM was asked: echo with max_tokens 0 in both modes (without echo vLLM refuses max_tokens 0).
        using var request = JsonDocument.Parse(vllm.LastRequest!);
        var body = request.RootElement;
        Assert.Equal(Model, body.GetProperty("model").GetString());
        Assert.Equal("[[9707,11,1879,0]]", body.GetProperty("prompt").GetRawText());
        Assert.Equal(0, body.GetProperty("max_tokens").GetInt32());
        Assert.True(body.GetProperty("echo").GetBoolean());
        Assert.True(body.GetProperty("return_tokens_as_token_ids").GetBoolean());
        var (logProbs, promptLogProbs) = scoringMode == OpenAIScoringMode.Echo ? ("2", "null") : ("null", "2");
        Assert.Equal(logProbs, Field(body, "logprobs"));
        Assert.Equal(promptLogProbs, Field(body, "prompt_logprobs"));
    }

    /// <summary>An absent field and a null one mean the same to vLLM.</summary>
    private static string Field(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) ? value.GetRawText() : "null";

    /// <summary>Answers every <c>/v1/completions</c> with one recorded body and keeps the last request's body.</summary>
    private sealed class RecordingVllm(WebApplication app) : IAsyncDisposable
    {
        public string? LastRequest { get; private set; }

        public static async Task<RecordingVllm> StartAsync(string responseBody)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var recording = new RecordingVllm(app);
            app.MapPost("/v1/completions", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                recording.LastRequest = await reader.ReadToEndAsync();
                return Results.Text(responseBody, "application/json");
            });
            await app.StartAsync();
            return recording;
        }

        public HttpClient CreateHttpClient() => new() { BaseAddress = new Uri(app.Urls.First()) };

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}
