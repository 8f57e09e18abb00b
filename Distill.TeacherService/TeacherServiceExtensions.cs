using Distill.Core.Contracts;
using Distill.Core.Torch;
using Distill.TeacherService;
using Distill.TeacherService.Api;
using Distill.TeacherService.Backends;
using Distill.TeacherService.Caching;
using Distill.TeacherService.Hosting;
using Distill.TeacherService.Scoring;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Microsoft.Extensions.Hosting;

public static class TeacherServiceExtensions
{
    /// <summary>Options, the configured backend, batching, the Redis cache, health checks and bad-request handling.</summary>
    public static IHostApplicationBuilder AddTeacherService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TeacherOptions>()
            .Bind(builder.Configuration.GetSection(TeacherOptions.SectionName))
            .Validate(o => TeacherBackends.All.Contains(o.Backend),
                $"Teacher:Backend must be one of: {string.Join(", ", TeacherBackends.All)}.")
            .Validate(o => o.Backend == TeacherBackends.OpenAI || !string.IsNullOrWhiteSpace(o.ModelPath),
                "Teacher:ModelPath (a checkpoint directory) is required for the torch and onnx backends.")
            .Validate(o => TorchDevice.Choices.Contains(o.Device.Trim().ToLowerInvariant()),
                $"Teacher:Device must be one of: {string.Join(", ", TorchDevice.Choices)}.")
            .Validate(o => TorchBackendOptions.DTypes.Contains(o.Torch.DType),
                $"Teacher:Torch:DType must be one of: {string.Join(", ", TorchBackendOptions.DTypes)}.")
            .Validate(o => o.Backend != TeacherBackends.OpenAI || o.OpenAI.BaseAddress is { IsAbsoluteUri: true },
                "Teacher:OpenAI:BaseAddress (an absolute URI) is required for the openai backend.")
            .Validate(o => o.OpenAI.MaxLogProbs is null or >= 0,
                "Teacher:OpenAI:MaxLogProbs (the server's --max-logprobs) must not be negative.")
            // The message never quotes the key: it is a secret.
            .Validate(o => o.OpenAI.ApiKey is null || !o.OpenAI.ApiKey.Any(char.IsWhiteSpace),
                "Teacher:OpenAI:ApiKey must not hold whitespace (it is sent as 'Authorization: Bearer <key>').")
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
        builder.AddScoreCache();
        builder.Services.AddSingleton<ScoreBatcher>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<ScoreBatcher>());
        builder.Services.AddSingleton<ScoringPipeline>();
        builder.Services.AddTeacherBackends();

        builder.Services.AddHealthChecks()
            .AddCheck<TeacherReadyHealthCheck>("teacher");

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Unreadable bodies throw to the exception handler, which names the field, instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            // The contract is JSON numbers: the web defaults would also take "5" for 5, and ["7"] for token id 7.
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            json.SerializerOptions.TypeInfoResolver = (json.SerializerOptions.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver())
                .WithAddedModifier(ScoreRequestReading.AddLimits);
        });
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<TeacherOptions>>((kestrel, teacher) =>
            kestrel.Limits.MaxRequestBodySize = teacher.Value.Limits.MaxRequestBodyBytes);
        return builder;
    }

    /// <summary>
    /// The backend is picked from the bound options when first needed, so every configuration source (tests'
    /// included) decides it; the openai backend's HTTP client is registered either way and costs nothing unused.
    /// </summary>
    private static void AddTeacherBackends(this IServiceCollection services)
    {
        services.AddSingleton<ITeacherBackend>(provider => provider.GetRequiredService<IOptions<TeacherOptions>>().Value.Backend switch
        {
            TeacherBackends.Torch => ActivatorUtilities.CreateInstance<TorchTeacherBackend>(provider),
            TeacherBackends.Onnx => ActivatorUtilities.CreateInstance<OnnxTeacherBackend>(provider),
            TeacherBackends.OpenAI => ActivatorUtilities.CreateInstance<OpenAITeacherBackend>(provider),
            var backend => throw new InvalidOperationException($"Teacher:Backend '{backend}' has no implementation in this build."),
        });

        services.AddHttpClient(OpenAITeacherBackend.HttpClientName, (provider, http) =>
            {
                var openAI = provider.GetRequiredService<IOptions<TeacherOptions>>().Value.OpenAI;
                http.BaseAddress = openAI.BaseAddress;
                // The factory's request logging redacts header values (its default), so the key stays out of the logs.
                // Empty counts as unset, as an environment variable left blank does.
                if (!string.IsNullOrEmpty(openAI.ApiKey)) http.DefaultRequestHeaders.Authorization = new("Bearer", openAI.ApiKey);
            })
            .AddScoringResilienceHandler(provider =>
            {
                var openAI = provider.GetRequiredService<IOptions<TeacherOptions>>().Value.OpenAI;
                return new ScoringTimeouts(openAI.AttemptTimeout, openAI.TotalRequestTimeout);
            });
    }

    public static WebApplication MapTeacherService(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(RequestTooLargeHandler.HandleAsync);
        // /v1/score's limits apply while its body is read (see ScoreRequestReading), so they must be in place before binding.
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsPost(context.Request.Method) || context.Request.Path != "/v1/score")
            {
                await next(context);
                return;
            }
            var services = context.RequestServices;
            using var reading = ScoreRequestReading.Begin(services.GetRequiredService<IOptions<TeacherOptions>>().Value.Limits,
                services.GetRequiredService<TeacherModel>().Current?.Info);
            await next(context);
        });
        app.MapDefaultEndpoints();
        app.MapTeacherEndpoints();
        return app;
    }
}
