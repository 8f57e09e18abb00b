using System.Security.Cryptography;
using System.Text;
using Distill.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.TeacherService.Tests;

/// <summary>
/// A vLLM imitation: a real teacher service on Kestrel whose OpenAI-compatible endpoints answer as vLLM's do, seen from
/// outside the way a vLLM server is. It has no <c>/v1/teacher</c> (nor <c>/v1/score</c>): vLLM's router answers an
/// unknown path 404 <c>{"detail":"Not Found"}</c>. Started with an API key it refuses, as <c>vllm serve --api-key</c>
/// does, every <c>/v1</c> request without <c>Authorization: Bearer &lt;key&gt;</c>: 401 <c>{"error":"Unauthorized"}</c>,
/// checked before routing, so even the 404 needs the key.
/// </summary>
public static class VllmImitation
{
    public static TeacherHost Start(string checkpointDirectory, string? apiKey = null) =>
        TeacherHost.Start(TeacherHost.Settings(checkpointDirectory),
            services: services => services.AddSingleton<IStartupFilter>(new VllmSurface(apiKey)));

    private sealed class VllmSurface(string? apiKey) : IStartupFilter
    {
        private static readonly string[] DistillOnly = ["/v1/teacher", "/v1/score"];

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                var path = context.Request.Path;
                if (apiKey is not null && path.StartsWithSegments("/v1") && !Authorized(context.Request))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    await context.Response.WriteAsJsonAsync(new { error = "Unauthorized" });
                    return;
                }
                if (DistillOnly.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase)))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    await context.Response.WriteAsJsonAsync(new { detail = "Not Found" });
                    return;
                }
                await nextMiddleware(context);
            });
            next(app);
        };

        private bool Authorized(HttpRequest request) =>
            CryptographicOperations.FixedTimeEquals(
                Encoding.UTF8.GetBytes(request.Headers.Authorization.ToString()), Encoding.UTF8.GetBytes($"Bearer {apiKey}"));
    }
}
