using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Http;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator;

public static class EvaluatorServiceExtensions
{
    /// <summary>
    /// The evaluator's services: validated options, the held-out set, the teacher client, the checkpoint evaluator and its runner, and the
    /// catalog the HTTP API reads. Options are validated when the host starts, before any model is loaded.
    /// </summary>
    public static TBuilder AddEvaluator<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<EvaluatorOptions>()
            .Bind(builder.Configuration.GetSection(EvaluatorOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EvaluatorOptions>, EvaluatorOptionsValidator>();

        builder.Services.AddTeacherClient(builder.Configuration);
        builder.Services.AddSingleton(provider => HeldOutSet.Load(provider.GetRequiredService<IOptions<EvaluatorOptions>>().Value));
        builder.Services.AddSingleton<TeacherReference>();
        builder.Services.AddSingleton<CheckpointEvaluator>();
        builder.Services.AddSingleton<EvaluatorTelemetry>();
        builder.Services.AddSingleton<EvaluationRunner>();
        builder.Services.AddSingleton<EvaluationCatalog>();
        return builder;
    }
}
