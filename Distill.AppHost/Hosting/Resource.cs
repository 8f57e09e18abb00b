namespace Distill.AppHost.Hosting;

/// <summary>What a resource waits for before it starts.</summary>
public enum WaitKind
{
    /// <summary>Running and its health check passes.</summary>
    Healthy,
    /// <summary>Exited with code 0.</summary>
    Completed,
}

public enum ResourceState { NotStarted, Waiting, Starting, Running, Healthy, Finished, Failed, Stopped }

/// <summary>One part of the distributed application: a process this host starts, or something that already exists.</summary>
public abstract class Resource(string name)
{
    public string Name { get; } = name;

    public Dictionary<string, Func<string>> Environment { get; } = new(StringComparer.Ordinal);

    public List<Func<string>> Arguments { get; } = [];

    public List<(Resource Dependency, WaitKind Kind)> Waits { get; } = [];

    /// <summary>Resources whose connection information this one receives in its environment.</summary>
    public List<Resource> References { get; } = [];

    /// <summary>The http endpoint, when the resource serves one; allocated on a free loopback port at start.</summary>
    public int? HttpPort { get; internal set; }

    public bool HasHttpEndpoint { get; internal set; }

    /// <summary>How often a crashed process is started again before the resource is reported failed.</summary>
    public int MaxRestarts { get; internal set; }

    /// <summary>A resource that runs to completion (a job); the application is done when all of them are.</summary>
    public bool IsJob { get; internal set; }

    public string HttpUrl => HttpPort is { } port
        ? $"http://127.0.0.1:{port}"
        : throw new InvalidOperationException($"resource '{Name}' has no http endpoint.");

    /// <summary>The environment variables a resource that references this one receives (Aspire's contract).</summary>
    public abstract IEnumerable<KeyValuePair<string, string>> ReferenceEnvironment();
}

/// <summary>A resource whose process this host starts.</summary>
public abstract class ProcessResource(string name) : Resource(name)
{
    public abstract (string FileName, IReadOnlyList<string> Arguments) Command(string dataDirectory);

    /// <summary>Readiness: true once the process answers its health check.</summary>
    public abstract Task<bool> IsHealthyAsync(HttpClient http, CancellationToken cancellationToken);
}
