using System.Reflection;

namespace Distill.AppHost.Hosting;

/// <summary>
/// One of our .NET services, started as <c>dotnet &lt;its built dll&gt;</c> (building the AppHost builds it).
/// </summary>
public sealed class ProjectResource(string name, string projectName) : ProcessResource(name)
{
    public string ProjectName { get; } = projectName;

    public string HealthPath { get; internal set; } = "/health";

    public string AssemblyPath
    {
        get
        {
            var metadata = typeof(ProjectResource).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .ToDictionary(a => a.Key, a => a.Value ?? "");
            return Path.Combine(metadata["Distill.RepositoryRoot"], ProjectName, "bin", metadata["Distill.Configuration"],
                metadata["Distill.TargetFramework"], ProjectName + ".dll");
        }
    }

    public override IEnumerable<KeyValuePair<string, string>> ReferenceEnvironment()
    {
        if (HasHttpEndpoint)
            yield return new($"services__{Name}__http__0", HttpUrl);
    }

    public override (string FileName, IReadOnlyList<string> Arguments) Command(string dataDirectory)
    {
        var assembly = AssemblyPath;
        if (!File.Exists(assembly))
            throw new FileNotFoundException($"resource '{Name}': {assembly} is not built; build the AppHost first.", assembly);
        return ("dotnet", [assembly, .. Arguments.Select(argument => argument())]);
    }

    public override async Task<bool> IsHealthyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        if (!HasHttpEndpoint) return true;
        try
        {
            using var response = await http.GetAsync(HttpUrl + HealthPath, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
