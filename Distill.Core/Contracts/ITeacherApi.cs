using Refit;

namespace Distill.Core.Contracts;

/// <summary>The teacher service as its clients (trainer, evaluator) see it; wire it with <c>AddTeacherClient</c>.</summary>
public interface ITeacherApi
{
    [Post("/v1/score")]
    Task<ScoreResponse> ScoreAsync([Body] ScoreRequest request, CancellationToken cancellationToken = default);

    [Get("/v1/teacher")]
    Task<TeacherInfo> GetTeacherAsync(CancellationToken cancellationToken = default);
}

/// <summary>Any OpenAI-compatible server's completions API (vLLM, or the teacher service itself), for scoring.</summary>
public interface IOpenAICompletionsApi
{
    [Post("/v1/completions")]
    Task<CompletionResponse> CreateCompletionAsync([Body] CompletionRequest request, CancellationToken cancellationToken = default);

    [Get("/v1/models")]
    Task<ModelList> ListModelsAsync(CancellationToken cancellationToken = default);
}
