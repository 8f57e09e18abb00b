using Microsoft.Extensions.Configuration;

namespace Distill.AppHost.Hosting;

/// <summary>Builds the resource graph, in the spirit of Aspire's <c>IDistributedApplicationBuilder</c>.</summary>
public sealed class DistributedApplicationBuilder
{
    private readonly List<Resource> resources = [];

    // Flags are the AppHost's own (AppHostFlags); resources read appsettings.json and the environment, e.g. an
    // existing Redis as ConnectionStrings__cache.
    internal DistributedApplicationBuilder()
    {
        Configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .Build();
    }

    public IConfiguration Configuration { get; }

    public IReadOnlyList<Resource> Resources => resources;

    public ResourceBuilder<T> AddResource<T>(T resource) where T : Resource
    {
        if (resources.Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException($"a resource named '{resource.Name}' exists already.", nameof(resource));
        resources.Add(resource);
        return new ResourceBuilder<T>(resource);
    }

    public DistributedApplication Build(string dataDirectory, string? otlpEndpoint) =>
        new(resources, dataDirectory, otlpEndpoint);
}

public static class DistributedApplicationFactory
{
    public static DistributedApplicationBuilder CreateBuilder() => new();
}

/// <summary>A resource being configured; the extension methods below read like Aspire's.</summary>
public sealed class ResourceBuilder<T>(T resource) where T : Resource
{
    public T Resource { get; } = resource;
}

public static class ResourceBuilderExtensions
{
    /// <summary>A private redis-server, or the existing one named by <c>ConnectionStrings:{name}</c>.</summary>
    public static ResourceBuilder<Resource> AddRedis(this DistributedApplicationBuilder builder, string name, int maxMemoryMegabytes = 256)
    {
        var existing = builder.Configuration.GetConnectionString(name);
        return string.IsNullOrWhiteSpace(existing)
            ? new ResourceBuilder<Resource>(builder.AddResource(new RedisResource(name, maxMemoryMegabytes)).Resource)
            : new ResourceBuilder<Resource>(builder.AddResource(new ExistingConnectionResource(name, existing)).Resource);
    }

    public static ResourceBuilder<ProjectResource> AddProject(this DistributedApplicationBuilder builder, string name, string projectName) =>
        builder.AddResource(new ProjectResource(name, projectName));

    public static ResourceBuilder<ProjectResource> WithHttpEndpoint(this ResourceBuilder<ProjectResource> builder, string healthPath = "/health")
    {
        builder.Resource.HasHttpEndpoint = true;
        builder.Resource.HealthPath = healthPath;
        return builder;
    }

    /// <summary>Injects the connection string or service endpoint of <paramref name="dependency"/>.</summary>
    public static ResourceBuilder<T> WithReference<T, TDependency>(this ResourceBuilder<T> builder, ResourceBuilder<TDependency> dependency)
        where T : Resource where TDependency : Resource
    {
        builder.Resource.References.Add(dependency.Resource);
        return builder;
    }

    public static ResourceBuilder<T> WaitFor<T, TDependency>(this ResourceBuilder<T> builder, ResourceBuilder<TDependency> dependency)
        where T : Resource where TDependency : Resource
    {
        builder.Resource.Waits.Add((dependency.Resource, WaitKind.Healthy));
        return builder;
    }

    public static ResourceBuilder<T> WaitForCompletion<T, TDependency>(this ResourceBuilder<T> builder, ResourceBuilder<TDependency> dependency)
        where T : Resource where TDependency : Resource
    {
        builder.Resource.Waits.Add((dependency.Resource, WaitKind.Completed));
        return builder;
    }

    public static ResourceBuilder<T> WithEnvironment<T>(this ResourceBuilder<T> builder, string name, string value) where T : Resource
    {
        builder.Resource.Environment[name] = () => value;
        return builder;
    }

    public static ResourceBuilder<T> WithArgs<T>(this ResourceBuilder<T> builder, params string[] arguments) where T : Resource
    {
        foreach (var argument in arguments)
            builder.Resource.Arguments.Add(() => argument);
        return builder;
    }

    /// <summary>A crashed process is started again, at most <paramref name="maxRestarts"/> times.</summary>
    public static ResourceBuilder<T> WithRestarts<T>(this ResourceBuilder<T> builder, int maxRestarts) where T : Resource
    {
        builder.Resource.MaxRestarts = maxRestarts;
        return builder;
    }

    /// <summary>The resource runs to completion; the application finishes when every job has.</summary>
    public static ResourceBuilder<T> AsJob<T>(this ResourceBuilder<T> builder) where T : Resource
    {
        builder.Resource.IsJob = true;
        return builder;
    }
}
