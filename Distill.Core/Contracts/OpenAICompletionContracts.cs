using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Core.Contracts;

/// <summary>
/// The scoring subset of OpenAI's legacy <c>POST /v1/completions</c> as vLLM serves it: prompts as token ids,
/// <c>echo</c> with <c>max_tokens</c> 0 (vLLM's "echo without generation"), and either <c>logprobs</c> or vLLM's
/// <c>prompt_logprobs</c>. <c>max_tokens</c> 0 needs <c>echo</c>: without it vLLM refuses the request.
/// <c>Prompt</c> is one token-id array or an array of them (text prompts are refused: this subset has no tokenizer).
/// Tokens are named <c>"token_id:N"</c>, as vLLM does with <c>return_tokens_as_token_ids</c>.
/// </summary>
public sealed record CompletionRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("prompt")] JsonElement Prompt,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens = null,
    [property: JsonPropertyName("echo")] bool Echo = false,
    [property: JsonPropertyName("logprobs")] int? LogProbs = null,
    [property: JsonPropertyName("prompt_logprobs")] int? PromptLogProbs = null,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("return_tokens_as_token_ids")] bool? ReturnTokensAsTokenIds = null);

public sealed record CompletionResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<CompletionChoice> Choices,
    [property: JsonPropertyName("usage")] CompletionUsage Usage);

/// <summary>
/// <c>PromptLogProbs</c> (vLLM): null for the first token, then per position a map from token id (as text) to its
/// log-prob and rank, holding the top candidates and the prompt's own token. vLLM adds more fields (<c>stop_reason</c>,
/// <c>prompt_token_ids</c>, <c>token_ids</c>, ...); scoring needs none of them, so they are not read.
/// </summary>
public sealed record CompletionChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("logprobs")] OpenAILogProbs? LogProbs,
    [property: JsonPropertyName("prompt_logprobs")] IReadOnlyList<Dictionary<string, PromptTokenLogProb>?>? PromptLogProbs,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);

/// <summary>OpenAI's per-token log-prob block; the first echoed token has no log-prob (null) and no candidates.</summary>
public sealed record OpenAILogProbs(
    [property: JsonPropertyName("tokens")] IReadOnlyList<string> Tokens,
    [property: JsonPropertyName("token_logprobs")] IReadOnlyList<float?> TokenLogProbs,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<Dictionary<string, float>?>? TopLogProbs,
    [property: JsonPropertyName("text_offset")] IReadOnlyList<int> TextOffset);

public sealed record PromptTokenLogProb(
    [property: JsonPropertyName("logprob")] float LogProb,
    [property: JsonPropertyName("rank")] int? Rank,
    [property: JsonPropertyName("decoded_token")] string? DecodedToken);

/// <summary>vLLM declares <c>completion_tokens</c> nullable.</summary>
public sealed record CompletionUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int? CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

/// <summary><c>GET /v1/models</c>; vLLM adds <c>max_model_len</c>.</summary>
public sealed record ModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<ModelCard> Data);

public sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("owned_by")] string? OwnedBy,
    [property: JsonPropertyName("max_model_len")] int? MaxModelLength);

/// <summary>Names a token by id the way vLLM does with <c>return_tokens_as_token_ids</c>: <c>"token_id:N"</c>.</summary>
public static class TokenIdText
{
    public const string Prefix = "token_id:";

    public static string Format(int tokenId) => Prefix + tokenId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Accepts <c>"token_id:N"</c> and the bare <c>"N"</c> that vLLM's prompt_logprobs keys use.</summary>
    public static bool TryParse(string text, out int tokenId)
    {
        var digits = text.StartsWith(Prefix, StringComparison.Ordinal) ? text.AsSpan(Prefix.Length) : text.AsSpan();
        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out tokenId);
    }
}

/// <summary>
/// vLLM's error body, <c>{"error": {"message", "type", "param", "code"}}</c> (older vLLM releases answered the same
/// fields flat, with <c>"object": "error"</c>). <c>Param</c> names the request field when vLLM knows it.
/// </summary>
public sealed record OpenAIErrorResponse([property: JsonPropertyName("error")] OpenAIError Error);

public sealed record OpenAIError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] int Code);
