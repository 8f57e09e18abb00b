using Distill.AppHost.Hosting;
using Distill.Dashboard.Resources;

namespace Distill.AppHost;

/// <summary>The dashboard's view of the resources this host runs, and of what they printed.</summary>
internal sealed class AppHostResources(DistributedApplication app) : IResourceStatusSource
{
    public IReadOnlyCollection<ResourceView> Resources => app.Snapshots.Select(s => new ResourceView(
        s.Name, s.State.ToString(),
        s.State switch
        {
            ResourceState.Healthy or ResourceState.Finished => ResourceHealth.Healthy,
            ResourceState.Failed => ResourceHealth.Unhealthy,
            _ => (ResourceHealth?)null,
        },
        s.Endpoint, s.Restarts, s.ExitCode, s.ProcessId)).ToArray();

    public IReadOnlyList<string> ConsoleLines(string resource, int max) =>
        ConsoleLogFile.ReadLastLines(Path.Combine(app.LogDirectory, resource + ".log"), max);
}
