namespace Distill.Dashboard.Resources;

/// <summary>What the dashboard shows about one resource the app host runs.</summary>
/// <param name="State">The host's own word for it: Waiting, Running, Healthy, Finished, Failed...</param>
/// <param name="Health">Whether its health check passes; null while unknown (not started, or no check).</param>
/// <param name="Endpoint">Its http endpoint, when it serves one.</param>
public sealed record ResourceView(
    string Name,
    string State,
    ResourceHealth? Health,
    string? Endpoint,
    int Restarts,
    int? ExitCode,
    int? ProcessId);

public enum ResourceHealth { Healthy, Unhealthy }

/// <summary>The app host's side of the Resources page: the resources it runs and what they printed.</summary>
public interface IResourceStatusSource
{
    IReadOnlyCollection<ResourceView> Resources { get; }

    /// <summary>The last <paramref name="max"/> lines of the resource's console output, oldest first.</summary>
    IReadOnlyList<string> ConsoleLines(string resource, int max);
}
