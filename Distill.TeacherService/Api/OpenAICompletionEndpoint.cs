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
/// teacher: token-id prompts, <c>max_tokens</c> 0, <c>echo</c> + <c>logprobs</c> or <c>prompt_logprobs</c>. It takes
/// the same cache and batching path as <c>/v1/score</c>, each prompt scored from its second token on.
/// </summary>
public static class OpenAICompletionEndpoint
{
    public static async Task<Results<Ok<CompletionResponse>, ValidationProblem, ProblemHttpResult>> CompleteAsync(
        CompletionRequest request, TeacherModel model, TeacherScoring scoring, IOptions<TeacherOptions> options, CancellationToken cancellationToken)
    {
        if (model.Current is not { } teacher) return TeacherEndpoints.NotLoaded(model);
        var (prompts, errors) = Validate(request, teacher.Info, options.Value.Limits);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The completion request is invalid.");

        var echoTopK = request.Echo ? request.LogProbs ?? 0 : 0;
        var topK = Math.Max(echoTopK, request.PromptLogProbs ?? 0);
        // A one-token prompt has nothing to score: its only token is the context.
        var scorable = Enumerable.Range(0, prompts.Length).Where(i => prompts[i].Length > 1).ToArray();
        var items = scorable.Select(i => new ScoringItem(prompts[i][..1], prompts[i][1..])).ToArray();
        var scored = await scoring.ScoreAsync(teacher, items, topK, cancellationToken);
        var byPrompt = new ScoredCompletion?[prompts.Length];
        for (var j = 0; j < scorable.Length; j++) byPrompt[scorable[j]] = scored[j].Scores;

        var choices = prompts.Select((prompt, i) => new CompletionChoice(
            Index: i,
            Text: "",
            LogProbs: request.Echo ? EchoLogProbs(prompt, byPrompt[i], request.LogProbs is null ? null : echoTopK) : null,
            PromptLogProbs: request.PromptLogProbs is { } k ? PromptLogProbs(prompt, byPrompt[i], k) : null,
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
    private static OpenAILogProbs EchoLogProbs(int[] prompt, ScoredCompletion? scored, int? topK)
    {
        var tokenLogProbs = new float?[prompt.Length];
        var top = topK is null ? null : new Dictionary<string, float>?[prompt.Length];
        for (var t = 1; t < prompt.Length; t++)
        {
            tokenLogProbs[t] = scored!.LogProbs[t - 1];
            if (top is null) continue;
            var candidates = (scored.TopK?[t - 1] ?? []).ToDictionary(c => TokenIdText.Format(c.TokenId), c => c.LogProb);
            candidates.TryAdd(TokenIdText.Format(prompt[t]), scored.LogProbs[t - 1]);
            top[t] = candidates;
        }
        return new OpenAILogProbs(prompt.Select(TokenIdText.Format).ToArray(), tokenLogProbs, top, new int[prompt.Length]);
    }

    /// <summary>vLLM's shape: keys are bare token ids, ranks are 1-based (unknown for a prompt token outside the top k).</summary>
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

    private static (int[][] Prompts, Dictionary<string, string[]> Errors) Validate(CompletionRequest? request, TeacherInfo teacher, RequestLimitOptions limits)
    {
        var errors = new Dictionary<string, string[]>();
        if (request is null)
        {
            errors["body"] = ["A JSON body is required."];
            return ([], errors);
        }
        if (request.Model is { } modelId && modelId != teacher.ModelId)
            errors["model"] = [$"This server serves '{teacher.ModelId}', not '{modelId}'."];
        if (request.MaxTokens != 0)
            errors["max_tokens"] = ["Must be 0: this endpoint scores prompts and does not generate."];
        if (!request.Echo && request.PromptLogProbs is null)
            errors["echo"] = ["Set echo with logprobs, or prompt_logprobs: this endpoint only returns prompt log-probs."];
        if (request.LogProbs is { } logProbs) ScoreRequestValidator.ValidateTopK(errors, "logprobs", logProbs, teacher);
        if (request.PromptLogProbs is { } promptLogProbs) ScoreRequestValidator.ValidateTopK(errors, "prompt_logprobs", promptLogProbs, teacher);

        var (prompts, single) = ReadPrompts(request.Prompt);
        if (prompts is null)
        {
            errors["prompt"] = ["Must be an array of token ids, or an array of such arrays (text prompts are not supported)."];
            return ([], errors);
        }
        if (prompts.Length == 0 || prompts.Length > limits.MaxSequencesPerRequest)
            errors["prompt"] = [$"Between 1 and {limits.MaxSequencesPerRequest} prompts are allowed; got {prompts.Length}."];
        for (var i = 0; i < prompts.Length && errors.Count < 20; i++)
        {
            var field = single ? "prompt" : $"prompt[{i}]";
            ScoreRequestValidator.ValidateTokenIds(errors, field, prompts[i], teacher, "A prompt needs at least one token.");
            if (prompts[i].Length > teacher.MaxContext)
                errors[field] = [$"The prompt is {prompts[i].Length} tokens; the teacher's context is {teacher.MaxContext}."];
        }
        return (prompts, errors);
    }

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
