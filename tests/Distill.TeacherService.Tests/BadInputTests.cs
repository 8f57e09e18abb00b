using Distill.Testing;
using System.Net;
using System.Text.Json;

namespace Distill.TeacherService.Tests;

/// <summary>
/// Every client error is a 400 ProblemDetails that names the field; none is a 500. (The OpenAI-compatible endpoint
/// answers in vLLM's error shape instead: <see cref="OpenAICompletionEndpointTests"/>.) The teacher is a real checkpoint of
/// vocabulary 64 (the char tokenizer's) and context 16, so ids from 64 on and sequences over 16 tokens are out of range.
/// </summary>
public sealed class BadInputTests : TinyTeacherHostTest
{
    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["Teacher:Limits:MaxRequestBodyBytes"] = "4096";
        settings["Teacher:Limits:MaxSequencesPerRequest"] = "4";
    }

    [Theory]
    [InlineData("/v1/score", """{"sequences":[]}""", "sequences")]
    [InlineData("/v1/score", """{"topK":0}""", "sequences")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[],"completionTokenIds":[1]}]}""", "sequences[0].promptTokenIds")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[]}]}""", "sequences[0].completionTokenIds")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[2,64]}]}""", "sequences[0].completionTokenIds[1]")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[-1],"completionTokenIds":[2]}]}""", "sequences[0].promptTokenIds[0]")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1,2,3,4,5,6,7,8,9],"completionTokenIds":[1,2,3,4,5,6,7,8]}]}""", "sequences[0]")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[2]}],"topK":65}""", "topK")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[2]}],"topK":-1}""", "topK")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[2]},{"promptTokenIds":[1],"completionTokenIds":[2]},{"promptTokenIds":[1],"completionTokenIds":[2]},{"promptTokenIds":[1],"completionTokenIds":[2]},{"promptTokenIds":[1],"completionTokenIds":[2]}]}""", "sequences")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1, "a"],"completionTokenIds":[2]}]}""", "sequences[0].promptTokenIds[1]")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[2.5]}]}""", "sequences[0].completionTokenIds[0]")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[99999999999]}]}""", "sequences[0].completionTokenIds[0]")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],""", "sequences[0]")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[2]}],"topK":"5"}""", "topK")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":["7"],"completionTokenIds":[2]}]}""", "sequences[0].promptTokenIds[0]")]
    [InlineData("/v1/score", """{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[2,"3"]}]}""", "sequences[0].completionTokenIds[1]")]
    [InlineData("/v1/score", "not json", "body")]
    [InlineData("/v1/score", "", "body")]
    [InlineData("/v1/completions", """{"prompt":[1,2,3],"max_tokens":"0","echo":true}""", "max_tokens")]
    [InlineData("/v1/completions", """{"prompt":[1,2,3],"max_tokens":0,"echo":true,"logprobs":"1"}""", "logprobs")]
    public async Task BadInputIsA400NamingTheField(string path, string body, string field)
    {
        using var http = Host.CreateHttpClient();
        using var response = await http.PostAsync(path, HealthTests.JsonContent(body));
        await AssertBadRequestNamingAsync(response, field);
    }

    [Fact]
    public async Task OversizeBodyIsA400NamingTheBody()
    {
        using var http = Host.CreateHttpClient();
        var ids = string.Join(',', Enumerable.Repeat(1, 3000));
        using var response = await http.PostAsync("/v1/score",
            HealthTests.JsonContent($$"""{"sequences":[{"promptTokenIds":[{{ids}}],"completionTokenIds":[2]}]}"""));
        await AssertBadRequestNamingAsync(response, "body");
    }

    internal static async Task AssertBadRequestNamingAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        var errors = problem.RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name).ToArray();
        Assert.Contains(field, errors);
    }
}
