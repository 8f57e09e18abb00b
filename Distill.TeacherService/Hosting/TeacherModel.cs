using Distill.TeacherService.Backends;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Distill.TeacherService.Hosting;

/// <summary>The teacher once loaded; until then requests get 503 and the readiness check says Unhealthy.</summary>
public sealed class TeacherModel : IDisposable
{
    private readonly TaskCompletionSource<LoadedTeacher> _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Null while loading, or when loading failed.</summary>
    public LoadedTeacher? Current => _loaded.Task.IsCompletedSuccessfully ? _loaded.Task.Result : null;

    public Exception? LoadError => _loaded.Task.Exception?.InnerException;

    public Task<LoadedTeacher> WhenLoaded => _loaded.Task;

    internal void SetLoaded(LoadedTeacher teacher) => _loaded.SetResult(teacher);

    internal void SetFailed(Exception error) => _loaded.SetException(error);

    public void Dispose() => Current?.Dispose();
}

/// <summary>
/// Loads the model in the background so the process answers <c>/alive</c> while weights are read (readiness stays
/// Unhealthy meanwhile). A model that cannot load stops the service: waiting would not make a truncated file whole,
/// and an orchestrator that polls readiness would otherwise wait for its whole health timeout.
/// </summary>
public sealed class TeacherLoadingService(ITeacherBackend backend, TeacherModel model, IHostApplicationLifetime lifetime,
    ILogger<TeacherLoadingService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Leave the host's start-up path at once: loading can take minutes.
            await Task.Yield();
            var teacher = await backend.LoadAsync(stoppingToken);
            logger.LogInformation("Teacher loaded: {Backend} {ModelId}, vocabulary {VocabularySize}, context {MaxContext}, fingerprint {Fingerprint}",
                teacher.Info.Backend, teacher.Info.ModelId, teacher.Info.VocabularySize, teacher.Info.MaxContext, teacher.Info.Fingerprint);
            model.SetLoaded(teacher);
        }
        catch (Exception error) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogError(error, "Loading the teacher failed");
            model.SetFailed(error);
            // The one line an orchestrator shows as the reason; Program exits with ServiceExitCodes.CannotStart.
            await Console.Error.WriteLineAsync($"error: the teacher cannot load: {error.Message}");
            lifetime.StopApplication();
        }
    }
}

/// <summary>
/// Readiness: Unhealthy (HTTP 503) until the model is loaded. Not Degraded, which health endpoints answer with 200
/// and an orchestrator would route traffic on.
/// </summary>
public sealed class TeacherReadyHealthCheck(TeacherModel model) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(model switch
        {
            { Current: { } teacher } => HealthCheckResult.Healthy($"{teacher.Info.Backend} teacher {teacher.Info.ModelId} loaded"),
            { LoadError: { } error } => HealthCheckResult.Unhealthy("loading the teacher failed", error),
            _ => HealthCheckResult.Unhealthy("the teacher is loading"),
        });
}
