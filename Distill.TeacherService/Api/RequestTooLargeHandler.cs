using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Distill.TeacherService.Api;

/// <summary>
/// Error responses the framework sends without a body get a ProblemDetails one. An oversize body, which Kestrel
/// answers 413 before any endpoint code runs, becomes the teacher API's 400 naming <c>body</c>.
/// </summary>
public static class RequestTooLargeHandler
{
    public static async Task HandleAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        ProblemDetails problem = new() { Status = http.Response.StatusCode };
        if (http.Response.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            problem = new ValidationProblemDetails(new Dictionary<string, string[]>
            {
                ["body"] = ["The request body is larger than the service accepts (Teacher:Limits:MaxRequestBodyBytes)."],
            })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request body is too large.",
            };
        }
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
    }
}
