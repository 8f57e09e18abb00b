using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Runs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Distill.Evaluator.Http;

/// <summary>One line of <c>GET /v1/evaluations</c>: enough to chart a run; the full record is at <see cref="Href"/>.</summary>
public sealed record EvaluationListing(
    string RunId,
    int Step,
    string Status,
    double? GreedyAccuracy,
    double? SatisfactionRate,
    double? CostMean,
    string? Error,
    string Href);

public static class EvaluationEndpoints
{
    public const string Evaluated = "evaluated";
    public const string Failed = "failed";

    public static IEndpointRouteBuilder MapEvaluationEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var evaluations = endpoints.MapGroup("/v1/evaluations");
        evaluations.MapGet("/", ListEvaluations);
        evaluations.MapGet("/{run}/{step:int}", GetEvaluation);
        return endpoints;
    }

    private static Ok<EvaluationListing[]> ListEvaluations(EvaluationCatalog catalog) =>
        TypedResults.Ok(catalog.All().Select(ToListing).ToArray());

    /// <summary>A checkpoint that could not be evaluated answers 422 with the reason, so a client tells it from one not yet evaluated (404).</summary>
    private static Results<Ok<CheckpointEvaluation>, ProblemHttpResult, NotFound> GetEvaluation(string run, int step, EvaluationCatalog catalog) =>
        catalog.Find(run, step) switch
        {
            { Evaluation: { } evaluation } => TypedResults.Ok(evaluation),
            { Failure: { } failure } => TypedResults.Problem(failure.Error, title: $"Evaluation of {run} step {step} failed",
                statusCode: StatusCodes.Status422UnprocessableEntity),
            _ => TypedResults.NotFound(),
        };

    private static EvaluationListing ToListing(StoredEvaluation stored) => new(
        stored.RunId,
        stored.Step,
        stored.Succeeded ? Evaluated : Failed,
        stored.Evaluation?.Metrics.GreedyAccuracy,
        stored.Evaluation?.Metrics.SatisfactionRate,
        stored.Evaluation?.Metrics.CostMean,
        stored.Failure?.Error,
        $"/v1/evaluations/{Uri.EscapeDataString(stored.RunId)}/{stored.Step}");
}
