using Distill.Core.Contracts;
using Distill.Core.Scoring;
using Distill.TeacherService.Hosting;
using Distill.TeacherService.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Distill.TeacherService.Api;

public static class TeacherEndpoints
{
    public static IEndpointRouteBuilder MapTeacherEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1");
        v1.MapPost("/score", ScoreAsync);
        v1.MapGet("/teacher", GetTeacher);
        v1.MapPost("/completions", OpenAICompletionEndpoint.CompleteAsync);
        v1.MapGet("/models", OpenAICompletionEndpoint.ListModels);
        return endpoints;
    }

    private static async Task<Results<Ok<ScoreResponse>, ValidationProblem, ProblemHttpResult>> ScoreAsync(
        ScoreRequest request, TeacherModel model, ScoringPipeline scoring, IOptions<TeacherOptions> options, CancellationToken cancellationToken)
    {
        if (model.Current is not { } teacher) return NotLoaded(model);
        var errors = ScoreRequestValidator.Validate(request, teacher.Info, options.Value.Limits);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The score request is invalid.");

        var items = request.Sequences.Select(s => new ScoringItem(s.PromptTokenIds, s.CompletionTokenIds)).ToArray();
        var scored = await scoring.ScoreAsync(teacher, items, request.TopK, cancellationToken);
        var sequences = scored.Select(s => new SequenceScores(
            s.Scores.LogProbs,
            s.Scores.TopK?.Select(position => position.Select(c => new TokenCandidate(c.TokenId, c.LogProb)).ToArray()).ToArray(),
            s.Cached)).ToArray();
        return TypedResults.Ok(new ScoreResponse(teacher.Info.ModelId, teacher.Info.Fingerprint, sequences));
    }

    private static Results<Ok<TeacherInfo>, ProblemHttpResult> GetTeacher(TeacherModel model) =>
        model.Current is { } teacher ? TypedResults.Ok(teacher.Info) : NotLoaded(model);

    /// <summary>503 while the model loads (or after it failed to), so clients retry instead of failing hard.</summary>
    internal static ProblemHttpResult NotLoaded(TeacherModel model) => TypedResults.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable,
        title: model.LoadError is null ? "The teacher is loading." : "The teacher failed to load.",
        detail: model.LoadError?.Message);
}
