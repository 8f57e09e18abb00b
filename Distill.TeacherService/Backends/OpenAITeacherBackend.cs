using Distill.Core.Contracts;
using Distill.Core.Scoring;
using Microsoft.Extensions.Options;
using Refit;

namespace Distill.TeacherService.Backends;

/// <summary>
/// A teacher behind an OpenAI-compatible server: vLLM, or another Distill teacher service. Its identity comes from
/// the remote <c>/v1/teacher</c> when there is one, else from <c>/v1/models</c> plus configuration.
/// </summary>
public sealed class OpenAITeacherBackend(
    IHttpClientFactory httpClients, IOptions<TeacherOptions> options, ILogger<OpenAITeacherBackend> logger) : ITeacherBackend
{
    public const string HttpClientName = "teacher-upstream";

    /// <summary>A fresh client per call lets the factory rotate handlers (DNS changes) under a long-lived scorer.</summary>
    private IOpenAICompletionsApi Completions() => RestService.ForGenerated<IOpenAICompletionsApi>(httpClients.CreateClient(HttpClientName));

    public async Task<LoadedTeacher> LoadAsync(CancellationToken cancellationToken)
    {
        var configured = options.Value.OpenAI;
        var maxTopK = options.Value.Limits.MaxTopK;
        var remote = await TryGetDistillTeacherAsync(cancellationToken);
        TeacherInfo info;
        if (remote is not null)
        {
            info = LoadedTeacher.Describe(TeacherBackends.OpenAI, remote.ModelId, remote.WeightsFingerprint, remote.TokenizerFingerprint,
                remote.VocabularySize, remote.MaxContext, Math.Min(Math.Min(maxTopK, remote.MaxTopK), configured.MaxLogProbs ?? int.MaxValue));
        }
        else
        {
            var models = await Completions().ListModelsAsync(cancellationToken);
            var model = configured.Model is null ? models.Data.FirstOrDefault() : models.Data.FirstOrDefault(m => m.Id == configured.Model);
            if (model is null)
                throw new InvalidOperationException($"{configured.BaseAddress} serves no model{(configured.Model is null ? "" : $" named '{configured.Model}'")}.");
            info = LoadedTeacher.Describe(TeacherBackends.OpenAI, model.Id,
                configured.WeightsFingerprint ?? $"{configured.BaseAddress}#{model.Id}",
                configured.TokenizerFingerprint ?? throw Missing(nameof(configured.TokenizerFingerprint)),
                configured.VocabularySize ?? throw Missing(nameof(configured.VocabularySize)),
                configured.MaxContext ?? model.MaxModelLength ?? throw Missing(nameof(configured.MaxContext)),
                // vLLM refuses any request for more log-probs than its --max-logprobs, and does not report it.
                Math.Min(maxTopK, configured.MaxLogProbs ?? OpenAIBackendOptions.VllmDefaultMaxLogProbs));
        }
        return new LoadedTeacher(new OpenAISequenceScorer(Completions, info, configured.Mode), info);
    }

    private async Task<TeacherInfo?> TryGetDistillTeacherAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await RestService.ForGenerated<ITeacherApi>(httpClients.CreateClient(HttpClientName)).GetTeacherAsync(cancellationToken);
        }
        catch (ApiException error) when (error.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            logger.LogInformation("{BaseAddress} has no /v1/teacher; identifying the model by /v1/models and configuration", options.Value.OpenAI.BaseAddress);
            return null;
        }
    }

    private static InvalidOperationException Missing(string option) =>
        new($"Teacher:OpenAI:{option} must be set: the remote server is not a Distill teacher and does not report it.");
}

/// <summary>Scores a batch with one completions call: each item's prompt + completion echoed with its log-probs.</summary>
public sealed class OpenAISequenceScorer(Func<IOpenAICompletionsApi> completions, TeacherInfo teacher, OpenAIScoringMode mode) : ISequenceScorer
{
    public int VocabularySize => teacher.VocabularySize;

    public int MaxContext => teacher.MaxContext;

    public async Task<IReadOnlyList<ScoredCompletion>> ScoreAsync(IReadOnlyList<ScoringItem> batch, int topK, CancellationToken cancellationToken = default)
    {
        var prompts = batch.Select(item => item.PromptTokenIds.Concat(item.CompletionTokenIds).ToArray()).ToArray();
        // Both modes echo: vLLM takes echo + max_tokens 0 as "score the prompt, generate nothing", and refuses
        // max_tokens 0 without echo. With logprobs null the echoed prompt_logprobs are the only log-probs returned.
        var request = mode == OpenAIScoringMode.Echo
            ? new CompletionRequest(teacher.ModelId, System.Text.Json.JsonSerializer.SerializeToElement(prompts), MaxTokens: 0, Echo: true,
                LogProbs: topK, Temperature: 0, ReturnTokensAsTokenIds: true)
            : new CompletionRequest(teacher.ModelId, System.Text.Json.JsonSerializer.SerializeToElement(prompts), MaxTokens: 0, Echo: true,
                LogProbs: null, PromptLogProbs: topK, Temperature: 0, ReturnTokensAsTokenIds: true);
        CompletionResponse response;
        try
        {
            response = await completions().CreateCompletionAsync(request, cancellationToken);
        }
        catch (ApiException error) when (error.StatusCode == System.Net.HttpStatusCode.BadRequest)
        {
            // vLLM's error body says what it refused (e.g. a k above its --max-logprobs); the bare status does not.
            throw new InvalidOperationException($"The server refused the completions request: {error.Content}", error);
        }
        if (response.Choices.Count != batch.Count)
            throw new InvalidOperationException($"The server answered {response.Choices.Count} choices for {batch.Count} prompts.");

        return response.Choices.OrderBy(c => c.Index).Select((choice, i) => mode == OpenAIScoringMode.Echo
            ? FromEcho(choice, batch[i], topK)
            : FromPromptLogProbs(choice, batch[i], topK)).ToArray();
    }

    private static ScoredCompletion FromEcho(CompletionChoice choice, ScoringItem item, int topK)
    {
        var logProbs = choice.LogProbs ?? throw new InvalidOperationException("The server returned no logprobs for an echo request.");
        var start = item.PromptTokenIds.Length;
        var length = item.CompletionTokenIds.Length;
        if (logProbs.TokenLogProbs.Count != start + length)
            throw new InvalidOperationException($"The server echoed {logProbs.TokenLogProbs.Count} tokens for a {start + length}-token sequence.");
        var scores = new float[length];
        var candidates = topK > 0 ? new TokenLogProb[length][] : null;
        for (var t = 0; t < length; t++)
        {
            scores[t] = logProbs.TokenLogProbs[start + t] ?? throw new InvalidOperationException($"No log-prob at position {start + t}.");
            if (candidates is not null)
                candidates[t] = TopCandidates((logProbs.TopLogProbs?[start + t] ?? []).Select(pair => (pair.Key, pair.Value)), topK);
        }
        return new ScoredCompletion(scores, candidates);
    }

    private static ScoredCompletion FromPromptLogProbs(CompletionChoice choice, ScoringItem item, int topK)
    {
        var positions = choice.PromptLogProbs ?? throw new InvalidOperationException("The server returned no prompt_logprobs.");
        var start = item.PromptTokenIds.Length;
        var length = item.CompletionTokenIds.Length;
        if (positions.Count != start + length)
            throw new InvalidOperationException($"The server returned {positions.Count} prompt log-probs for a {start + length}-token sequence.");
        var scores = new float[length];
        var candidates = topK > 0 ? new TokenLogProb[length][] : null;
        for (var t = 0; t < length; t++)
        {
            var position = positions[start + t] ?? throw new InvalidOperationException($"No prompt log-probs at position {start + t}.");
            var own = item.CompletionTokenIds[t].ToString(System.Globalization.CultureInfo.InvariantCulture);
            scores[t] = position.TryGetValue(own, out var ownLogProb) ? ownLogProb.LogProb
                : throw new InvalidOperationException($"The server's prompt log-probs at position {start + t} lack the token itself.");
            if (candidates is not null)
                candidates[t] = TopCandidates(position.Select(pair => (pair.Key, pair.Value.LogProb)), topK);
        }
        return new ScoredCompletion(scores, candidates);
    }

    /// <summary>Servers add the prompt's own token to the top k, so a position can hold k + 1 entries: keep the k best.</summary>
    private static TokenLogProb[] TopCandidates(IEnumerable<(string Token, float LogProb)> entries, int topK) =>
        entries.Select(entry => TokenIdText.TryParse(entry.Token, out var id)
                ? new TokenLogProb(id, entry.LogProb)
                : throw new InvalidOperationException($"Token '{entry.Token}' is not a token id; ask the server for return_tokens_as_token_ids."))
            .OrderByDescending(candidate => candidate.LogProb)
            .Take(topK)
            .ToArray();
}
