using System.Text.Json;
using Distill.Core.Contracts;
using Distill.Core.Scoring;
using Distill.TeacherService.Hosting;
using Distill.TeacherService.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Distill.TeacherService.Api;

/// <summary>
/// The scoring subset of OpenAI's <c>/v1/completions</c>, so tools that score through vLLM can score through the
/// teacher: token-id prompts, <c>echo</c> with <c>max_tokens</c> 0, and <c>logprobs</c> or <c>prompt_logprobs</c>.
/// It takes the same cache and batching path as <c>/v1/score</c>, each prompt scored from its second token on.
/// It is also what the openai backend's tests run against, so it refuses at least what vLLM refuses, in vLLM's error
/// shape: a test double more lenient than the real server would hide the backend's bugs.
/// </summary>
public static class OpenAICompletionEndpoint
{
    /// <summary>vLLM's (and OpenAI's) default when a request leaves <c>max_tokens</c> out or null.</summary>
    private const int DefaultMaxTokens = 16;

    public static async Task<Results<Ok<CompletionResponse>, JsonHttpResult<OpenAIErrorResponse>, ProblemHttpResult>> CompleteAsync(
        CompletionRequest request, TeacherModel model, ScoringPipeline scoring, IOptions<TeacherOptions> options, CancellationToken cancellationToken)
    {
        if (model.Current is not { } teacher) return TeacherEndpoints.NotLoaded(model);
        var (prompts, error) = Validate(request, teacher.Info, options.Value.Limits);
        if (error is not null) return error;

        // As vLLM: -1 is the whole vocabulary, and (echo being set) prompt_logprobs defaults to logprobs' k.
        var echoTopK = request.LogProbs is { } logProbs ? AllOf(logProbs, teacher.Info) : (int?)null;
        var promptTopK = request.PromptLogProbs is { } promptLogProbs ? AllOf(promptLogProbs, teacher.Info) : echoTopK;
        var topK = Math.Max(echoTopK ?? 0, promptTopK ?? 0);
        // A one-token prompt has nothing to score: its only token is the context.
        var scorable = Enumerable.Range(0, prompts.Length).Where(i => prompts[i].Length > 1).ToArray();
        var items = scorable.Select(i => new ScoringItem(prompts[i][..1], prompts[i][1..])).ToArray();
        var scored = await scoring.ScoreAsync(teacher, items, topK, cancellationToken);
        var byPrompt = new ScoredCompletion?[prompts.Length];
        for (var j = 0; j < scorable.Length; j++) byPrompt[scorable[j]] = scored[j].Scores;

        var choices = prompts.Select((prompt, i) => new CompletionChoice(
            Index: i,
            Text: "",
            LogProbs: echoTopK is { } k ? EchoLogProbs(prompt, byPrompt[i], k) : null,
            PromptLogProbs: promptTopK is { } p ? PromptLogProbs(prompt, byPrompt[i], p) : null,
            FinishReason: "length")).ToArray();
        var promptTokens = prompts.Sum(p => p.Length);
        return TypedResults.Ok(new CompletionResponse(
            Id: $"cmpl-{Guid.NewGuid():N}",
            Object: "text_completion",
            Created: DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Model: teacher.Info.ModelId,
            Choices: choices,
            Usage: new CompletionUsage(promptTokens, 0, promptTokens)));
    }

    public static Results<Ok<ModelList>, ProblemHttpResult> ListModels(TeacherModel model) =>
        model.Current is { } teacher
            ? TypedResults.Ok(new ModelList("list", [new ModelCard(teacher.Info.ModelId, "model", "distill", teacher.Info.MaxContext)]))
            : TeacherEndpoints.NotLoaded(model);

    /// <summary>OpenAI's shape: the first token has no log-prob; each position lists the top k and the prompt's own token.</summary>
    private static OpenAILogProbs EchoLogProbs(int[] prompt, ScoredCompletion? scored, int topK)
    {
        var tokenLogProbs = new float?[prompt.Length];
        var top = new Dictionary<string, float>?[prompt.Length];
        for (var t = 1; t < prompt.Length; t++)
        {
            tokenLogProbs[t] = scored!.LogProbs[t - 1];
            var candidates = (scored.TopK?[t - 1] ?? []).Take(topK).ToDictionary(c => TokenIdText.Format(c.TokenId), c => c.LogProb);
            candidates.TryAdd(TokenIdText.Format(prompt[t]), scored.LogProbs[t - 1]);
            top[t] = candidates;
        }
        return new OpenAILogProbs(prompt.Select(TokenIdText.Format).ToArray(), tokenLogProbs, top, new int[prompt.Length]);
    }

    /// <summary>
    /// vLLM's shape: keys are bare token ids, ranks 1-based. vLLM also ranks a prompt token outside the top k; this
    /// server knows only the top k, so that rank is null (the backend reads log-probs, not ranks).
    /// </summary>
    private static Dictionary<string, PromptTokenLogProb>?[] PromptLogProbs(int[] prompt, ScoredCompletion? scored, int topK)
    {
        var positions = new Dictionary<string, PromptTokenLogProb>?[prompt.Length];
        for (var t = 1; t < prompt.Length; t++)
        {
            var candidates = scored!.TopK?[t - 1] ?? [];
            var position = candidates.Take(topK).Select((c, rank) => (c, rank))
                .ToDictionary(x => x.c.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    x => new PromptTokenLogProb(x.c.LogProb, x.rank + 1, TokenIdText.Format(x.c.TokenId)));
            var ownRank = Array.FindIndex(candidates, c => c.TokenId == prompt[t]);
            position.TryAdd(prompt[t].ToString(System.Globalization.CultureInfo.InvariantCulture),
                new PromptTokenLogProb(scored.LogProbs[t - 1], ownRank >= 0 ? ownRank + 1 : null, TokenIdText.Format(prompt[t])));
            positions[t] = position;
        }
        return positions;
    }

    /// <summary>
    /// The first refusal, checked in about vLLM's order, with vLLM's status, message and <c>param</c> where vLLM refuses
    /// the request too (verified against vLLM's <c>completion/protocol.py</c>, <c>sampling_params.py</c> and its input
    /// processor's log-prob limits). Where only this subset refuses (text prompts, generation) the message says so.
    /// </summary>
    private static (int[][] Prompts, JsonHttpResult<OpenAIErrorResponse>? Error) Validate(CompletionRequest? request, TeacherInfo teacher, RequestLimitOptions limits)
    {
        if (request is null) return ([], BadRequest("A JSON body is required.", "body"));
        // -1 asks for the whole vocabulary in vLLM; any other negative is refused before anything else is looked at.
        if (request.LogProbs is < -1)
            return ([], Invalid("`logprobs` must be a positive value or -1.", "logprobs", request.LogProbs.Value));
        if (request.PromptLogProbs is < -1)
            return ([], Invalid("`prompt_logprobs` must be a positive value or -1.", "prompt_logprobs", request.PromptLogProbs.Value));
        if (request.Model is { } modelId && modelId != teacher.ModelId)
            return ([], Error(StatusCodes.Status404NotFound, "NotFoundError", $"The model `{modelId}` does not exist.", "model"));

        var (prompts, single) = ReadPrompts(request.Prompt);
        if (prompts is null)
            return ([], BadRequest("This server takes prompts as token ids only: an array of ids or an array of such arrays (it has no tokenizer for text).", "prompt"));
        if (prompts.Length == 0 || prompts.Length > limits.MaxSequencesPerRequest)
            return ([], BadRequest($"Between 1 and {limits.MaxSequencesPerRequest} prompts are allowed; got {prompts.Length}.", "prompt"));
        for (var i = 0; i < prompts.Length; i++)
        {
            var field = single ? "prompt" : $"prompt[{i}]";
            if (prompts[i].Length == 0) return ([], BadRequest("The decoder prompt cannot be empty", field));
            var outside = Array.FindIndex(prompts[i], id => id < 0 || id >= teacher.VocabularySize);
            if (outside >= 0) return ([], BadRequest($"Token id {prompts[i][outside]} is out of vocabulary", $"{field}[{outside}]"));
            if (prompts[i].Length > teacher.MaxContext)
                return ([], BadRequest($"This model's maximum context length is {teacher.MaxContext} tokens. However, your request has " +
                    $"{prompts[i].Length} input tokens. Please reduce the length of the input messages.", field));
        }

        // vLLM generates one token and drops it when echo comes with max_tokens 0; without echo, 0 is refused
        // (vLLM issue #9336). This subset never generates, so any other max_tokens is refused here.
        var maxTokens = request.MaxTokens ?? DefaultMaxTokens;
        if (maxTokens < 0 || (maxTokens == 0 && !request.Echo))
            return ([], Invalid($"max_tokens must be at least 1, got {maxTokens}.", "max_tokens", maxTokens));
        if (maxTokens != 0)
            return ([], BadRequest("This server scores prompts and generates nothing: send max_tokens 0 with echo.", "max_tokens"));
        if (request.LogProbs is null && request.PromptLogProbs is null)
            return ([], BadRequest("This server only returns log-probs: ask for logprobs or prompt_logprobs.", "logprobs"));

        // vLLM's input processor: -1 means the whole vocabulary, and neither k may pass the server's --max-logprobs.
        // Here echo is set, so prompt_logprobs defaults to logprobs' k as in vLLM.
        var maxLogProbs = teacher.MaxTopK;
        if (request.LogProbs is { } logProbs && AllOf(logProbs, teacher) is var sample && sample > maxLogProbs)
            return ([], Invalid($"Requested sample logprobs of {sample}, which is greater than max allowed: {maxLogProbs}", "logprobs", sample));
        if ((request.PromptLogProbs ?? request.LogProbs) is { } promptLogProbs && AllOf(promptLogProbs, teacher) is var prompt && prompt > maxLogProbs)
            return ([], Invalid($"Requested prompt logprobs of {prompt}, which is greater than max allowed: {maxLogProbs}", "prompt_logprobs", prompt));
        return (prompts, null);
    }

    private static int AllOf(int k, TeacherInfo teacher) => k == -1 ? teacher.VocabularySize : k;

    /// <summary>A refusal vLLM raises as a validation error: it appends the parameter and the refused value to the message.</summary>
    private static JsonHttpResult<OpenAIErrorResponse> Invalid(string message, string param, int value) =>
        Error(StatusCodes.Status400BadRequest, "BadRequestError",
            $"{message} (parameter={param}, value={value.ToString(System.Globalization.CultureInfo.InvariantCulture)})", param);

    /// <summary>Any other 400; <c>param</c> names the field (vLLM leaves it null for some of these).</summary>
    private static JsonHttpResult<OpenAIErrorResponse> BadRequest(string message, string param) =>
        Error(StatusCodes.Status400BadRequest, "BadRequestError", message, param);

    private static JsonHttpResult<OpenAIErrorResponse> Error(int status, string type, string message, string param) =>
        TypedResults.Json(new OpenAIErrorResponse(new OpenAIError(message, type, param, status)), statusCode: status);

    /// <summary>
    /// <c>[1, 2, 3]</c> (single) or <c>[[1, 2], [3, 4]]</c>; null prompts for anything else (a string, a mix, a
    /// non-integer).
    /// </summary>
    private static (int[][]? Prompts, bool Single) ReadPrompts(JsonElement prompt)
    {
        if (prompt.ValueKind != JsonValueKind.Array) return (null, false);
        if (prompt.GetArrayLength() > 0 && prompt[0].ValueKind == JsonValueKind.Number)
            return (ReadIds(prompt) is { } ids ? [ids] : null, true);
        var prompts = new List<int[]>();
        foreach (var element in prompt.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Array || ReadIds(element) is not { } ids) return (null, false);
            prompts.Add(ids);
        }
        return ([.. prompts], false);
    }

    private static int[]? ReadIds(JsonElement array)
    {
        var ids = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var element in array.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out ids[i++])) return null;
        }
        return ids;
    }
}
