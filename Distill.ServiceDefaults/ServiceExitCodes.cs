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
