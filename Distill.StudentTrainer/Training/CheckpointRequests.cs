namespace Distill.StudentTrainer.Training;

/// <summary>
/// Checkpoints asked for from outside the schedule (<c>POST /checkpoint</c>, the dashboard's "Checkpoint now"): one is
/// written after the step in progress, and announced like any other, so the evaluator evaluates it.
/// </summary>
public sealed class CheckpointRequests(ILogger<CheckpointRequests> logger)
{
    private int requested;

    public void Request() => Interlocked.Exchange(ref requested, 1);

    /// <summary>True once per request, at the end of the step that takes it.</summary>
    public bool TryTake(int step)
    {
        if (Interlocked.Exchange(ref requested, 0) == 0) return false;
        logger.LogInformation("Checkpoint of step {Step} written on request.", step);
        return true;
    }
}

public static class CheckpointEndpoints
{
    /// <summary><c>POST /checkpoint</c>: 202, the checkpoint follows the step in progress.</summary>
    public static WebApplication MapCheckpointEndpoints(this WebApplication app)
    {
        app.MapPost("/checkpoint", (CheckpointRequests requests) =>
        {
            requests.Request();
            return Results.Accepted(value: new { message = "A checkpoint is written after the step in progress." });
        });
        return app;
    }
}
