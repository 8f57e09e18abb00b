using Distill.StudentTrainer.Training;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class TrainerServiceCollectionExtensions
{
    /// <summary>The trainer: options validated at start-up, the teacher client, the loop and the worker that runs it.</summary>
    public static IServiceCollection AddStudentTrainer(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TrainerOptions>()
            .Configure(options => options.Bind(configuration.GetSection(TrainerOptions.SectionName)))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrainerOptions>, TrainerOptionsValidator>();
        services.AddTeacherClient(configuration);
        services.AddSingleton<TrainerTelemetry>();
        services.AddSingleton<CheckpointRequests>();
        services.AddSingleton<PolicyTrainer>();
        services.AddHostedService<TrainingWorker>();
        return services;
    }

    private sealed class TrainerOptionsValidator : IValidateOptions<TrainerOptions>
    {
        public ValidateOptionsResult Validate(string? name, TrainerOptions options) =>
            options.Validate() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
