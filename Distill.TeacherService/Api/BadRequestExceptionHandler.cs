using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Distill.TeacherService.Api;

/// <summary>
/// Turns a body the framework could not read (malformed JSON, a wrong type, no body) into a 400 ProblemDetails naming
/// the field, where it would otherwise be an empty 400.
/// </summary>
public sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest) return false;

        var (field, message) = badRequest.InnerException switch
        {
            RequestLimitExceededException limit => (limit.Field, limit.Message),
            JsonException json => (FieldOf(json.Path), json.Message),
            _ => ("body", badRequest.Message),
        };
        var status = badRequest.StatusCode;
        context.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
            {
                Status = status,
                Title = "The request body could not be read.",
            },
        });
    }

    /// <summary><c>$.sequences[0].promptTokenIds[3]</c> → <c>sequences[0].promptTokenIds[3]</c>.</summary>
    private static string FieldOf(string? jsonPath) =>
        string.IsNullOrEmpty(jsonPath) || jsonPath == "$" ? "body" : jsonPath.TrimStart('$').TrimStart('.');
}
