using Distill.Core.Contracts;
using Distill.TeacherService;
using Distill.TeacherService.Api;
using Distill.TeacherService.Backends;
using Distill.TeacherService.Caching;
using Distill.TeacherService.Hosting;
using Distill.TeacherService.Scoring;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Refit;

namespace Microsoft.Extensions.Hosting;

public static class TeacherServiceExtensions
{
    /// <summary>Options, the configured backend, batching, the Redis cache, health checks and bad-request handling.</summary>
    public static IHostApplicationBuilder AddTeacherService(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(TeacherOptions.SectionName);
        builder.Services.AddOptions<TeacherOptions>()
            .Bind(section)
            .Validate(o => TeacherBackends.All.Contains(o.Backend),
                $"Teacher:Backend must be one of: {string.Join(", ", TeacherBackends.All)}.")
            .Validate(o => o.Backend != TeacherBackends.Torch || !string.IsNullOrWhiteSpace(o.Torch.CheckpointDirectory),
                "Teacher:Torch:CheckpointDirectory is required for the torch backend.")
            .Validate(o => o.Backend != TeacherBackends.OpenAI || o.OpenAI.BaseAddress is { IsAbsoluteUri: true },
                "Teacher:OpenAI:BaseAddress (an absolute URI) is required for the openai backend.")
            .Validate(o => o.Limits is { MaxSequencesPerRequest: > 0, MaxTopK: >= 0, MaxRequestBodyBytes: > 0 },
                "Teacher:Limits: MaxSequencesPerRequest and MaxRequestBodyBytes must be positive, MaxTopK not negative.")
            .Validate(o => o.Batching is { MaxBatchTokens: > 0, MaxBatchSequences: > 0, QueueCapacity: > 0 } && o.Batching.BatchWindow >= TimeSpan.Zero,
                "Teacher:Batching: MaxBatchTokens, MaxBatchSequences and QueueCapacity must be positive, BatchWindow not negative.")
            .Validate(o => o.Cache.TimeToLive > TimeSpan.Zero && o.Cache.OperationTimeout > TimeSpan.Zero,
                "Teacher:Cache: TimeToLive and OperationTimeout must be positive.")
            .ValidateOnStart();

        builder.Services.AddSingleton<TeacherTelemetry>();
        builder.Services.AddSingleton<TeacherModel>();
        builder.Services.AddHostedService<TeacherLoadingService>();
        builder.Services.AddSingleton<ScoreCache>();
        builder.Services.AddSingleton<ScoreBatcher>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<ScoreBatcher>());
        builder.Services.AddSingleton<TeacherScoring>();
        builder.AddTeacherBackend(section[nameof(TeacherOptions.Backend)] ?? TeacherBackends.Torch);

        builder.Services.AddHealthChecks()
            .AddCheck<TeacherReadyHealthCheck>("teacher")
            .AddCheck<ScoreCacheHealthCheck>("cache");

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Unreadable bodies throw to the exception handler, which names the field, instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<TeacherOptions>>((kestrel, teacher) =>
            kestrel.Limits.MaxRequestBodySize = teacher.Value.Limits.MaxRequestBodyBytes);
        return builder;
    }

    private static void AddTeacherBackend(this IHostApplicationBuilder builder, string backend)
    {
        switch (backend)
        {
            case TeacherBackends.OpenAI:
                builder.Services.AddSingleton<ITeacherBackend, OpenAITeacherBackend>();
                var upstream = builder.Services.AddHttpClient(OpenAITeacherBackend.HttpClientName, (provider, http) =>
                    http.BaseAddress = provider.GetRequiredService<IOptions<TeacherOptions>>().Value.OpenAI.BaseAddress);
                upstream.AddScoringResilienceHandler(provider =>
                {
                    var openAI = provider.GetRequiredService<IOptions<TeacherOptions>>().Value.OpenAI;
                    return new ScoringTimeouts(openAI.AttemptTimeout, openAI.TotalRequestTimeout);
                });
                builder.Services.AddSingleton(provider => RestService.For<IOpenAICompletionsApi>(UpstreamClient(provider)));
                builder.Services.AddSingleton(provider => RestService.For<ITeacherApi>(UpstreamClient(provider)));
                break;
        }
    }

    private static HttpClient UpstreamClient(IServiceProvider provider) =>
        provider.GetRequiredService<IHttpClientFactory>().CreateClient(OpenAITeacherBackend.HttpClientName);

    public static WebApplication MapTeacherService(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.MapDefaultEndpoints();
        app.MapTeacherEndpoints();
        return app;
    }
}
