using Distill.Testing;
using System.Net;
using System.Text.Json;

namespace Distill.TeacherService.Tests;

/// <summary>
/// The OpenAI-compatible endpoint is the stand-in for vLLM in the openai backend's tests, so it refuses what vLLM
/// refuses, with vLLM's status and error body (<c>{"error": {"message", "type", "param", "code"}}</c>), messages
/// included where vLLM's are known. The teacher has vocabulary 64 and context 16; its top-k limit is 20, vLLM's default
/// <c>--max-logprobs</c>.
/// </summary>
public sealed class OpenAICompletionEndpointTests : TinyTeacherHostTest
{
    protected override void Configure(Dictionary<string, string?> settings)
    {
        // As a vLLM server started with the default --max-logprobs 20: the 64-symbol teacher would otherwise return
        // its whole distribution (Teacher:Limits:FullDistributionMaxVocabulary), and these cases test the limit of 20.
        settings["Teacher:Limits:FullDistributionMaxVocabulary"] = "0";
        settings["Teacher:Limits:MaxSequencesPerRequest"] = "4";
    }

    [Theory]
    // What the backend's PromptLogProbs mode used to send: vLLM refuses max_tokens 0 without echo (vLLM issue #9336).
    [InlineData("""{"prompt":[1,2,3],"max_tokens":0,"prompt_logprobs":2}""", 400, "BadRequestError", "max_tokens",
        "max_tokens must be at least 1, got 0. (parameter=max_tokens, value=0)")]
    [InlineData("""{"prompt":[1,2,3],"max_tokens":0,"logprobs":2}""", 400, "BadRequestError", "max_tokens",
        "max_tokens must be at least 1, got 0. (parameter=max_tokens, value=0)")]
    // Above the server's --max-logprobs, in either mode.
    [InlineData("""{"prompt":[1,2,3],"max_tokens":0,"echo":true,"logprobs":21}""", 400, "BadRequestError", "logprobs",
        "Requested sample logprobs of 21, which is greater than max allowed: 20 (parameter=logprobs, value=21)")]
    [InlineData("""{"prompt":[1,2,3],"max_tokens":0,"echo":true,"logprobs":null,"prompt_logprobs":21}""", 400, "BadRequestError", "prompt_logprobs",
        "Requested prompt logprobs of 21, which is greater than max allowed: 20 (parameter=prompt_logprobs, value=21)")]
    [InlineData("""{"prompt":[1,2,3],"max_tokens":0,"echo":true,"logprobs":-1}""", 400, "BadRequestError", "logprobs",
        "Requested sample logprobs of 64, which is greater than max allowed: 20 (parameter=logprobs, value=64)")]
    [InlineData("""{"prompt":[1,2,3],"max_tokens":0,"echo":true,"logprobs":-2}""", 400, "BadRequestError", "logprobs",
        "`logprobs` must be a positive value or -1. (parameter=logprobs, value=-2)")]
    [InlineData("""{"model":"gpt-4","prompt":[1,2,3],"max_tokens":0,"echo":true,"logprobs":1}""", 404, "NotFoundError", "model",
        "The model `gpt-4` does not exist.")]
    // Valid for vLLM, refused by this scoring-only subset.
    [InlineData("""{"prompt":[1,2,3],"max_tokens":16,"echo":true,"logprobs":1}""", 400, "BadRequestError", "max_tokens", null)]
    [InlineData("""{"prompt":[1,2,3],"echo":true,"logprobs":1}""", 400, "BadRequestError", "max_tokens", null)]
    [InlineData("""{"prompt":[1,2,3],"max_tokens":0,"echo":true}""", 400, "BadRequestError", "logprobs", null)]
    [InlineData("""{"prompt":"text","max_tokens":0,"echo":true,"logprobs":1}""", 400, "BadRequestError", "prompt", null)]
    // Out of the model's range.
    [InlineData("""{"prompt":[[1,2],[3,77]],"max_tokens":0,"echo":true,"logprobs":1}""", 400, "BadRequestError", "prompt[1][1]",
        "Token id 77 is out of vocabulary")]
    [InlineData("""{"prompt":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17],"max_tokens":0,"echo":true,"logprobs":1}""", 400, "BadRequestError", "prompt", null)]
    [InlineData("""{"prompt":[[1],[2],[3],[4],[5]],"max_tokens":0,"echo":true,"logprobs":1}""", 400, "BadRequestError", "prompt", null)]
    public async Task RefusesWhatVllmRefusesInVllmsErrorShape(string body, int status, string type, string param, string? message)
    {
        using var http = Host.CreateHttpClient();
        using var response = await http.PostAsync("/v1/completions", HealthTests.JsonContent(body));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        var error = json.RootElement.GetProperty("error");
        Assert.Equal((type, param, status), (error.GetProperty("type").GetString(), error.GetProperty("param").GetString(), error.GetProperty("code").GetInt32()));
        if (message is not null) Assert.Equal(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task PromptLogProbsWithEchoAndNoLogProbsAnswerPromptLogProbsOnlyAsVllmDoes()
    {
        using var http = Host.CreateHttpClient();
        using var response = await http.PostAsync("/v1/completions", HealthTests.JsonContent(
            """{"model":"tiny-teacher","prompt":[[3,1,4],[1,5]],"max_tokens":0,"echo":true,"logprobs":null,"prompt_logprobs":2}"""));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var json = JsonDocument.Parse(text);
        var choices = json.RootElement.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal(2, choices.Length);
        foreach (var (choice, length) in choices.Zip([3, 2]))
        {
            Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
            var positions = choice.GetProperty("prompt_logprobs").EnumerateArray().ToArray();
            Assert.Equal(length, positions.Length);
            Assert.Equal(JsonValueKind.Null, positions[0].ValueKind);
            // The top 2 and the prompt's own token, keyed by bare token id.
            Assert.All(positions.Skip(1), p => Assert.InRange(p.EnumerateObject().Count(), 2, 3));
        }
    }
}
