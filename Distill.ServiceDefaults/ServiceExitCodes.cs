namespace Distill.ServiceDefaults;

/// <summary>Exit codes an orchestrator acts on, shared by the services and the AppHost.</summary>
public static class ServiceExitCodes
{
    /// <summary>
    /// The service cannot start as configured (a model that does not load): starting it again would fail the same way,
    /// so an orchestrator stops the run at once instead of restarting it. The reason is the last <c>error:</c> line
    /// the service wrote to standard error.
    /// </summary>
    public const int CannotStart = 3;
}

/// <summary>What a service's console says for an orchestrator to act on, shared by the services and the AppHost.</summary>
public static class ServiceConsoleSignals
{
    /// <summary>
    /// The start of the evaluator's summary line once a run is complete and its final checkpoint evaluated: the
    /// AppHost ends the run on it when the evaluator keeps serving (<c>--keep-running</c>) instead of exiting.
    /// </summary>
    public const string RunComplete = "Run complete:";
}
