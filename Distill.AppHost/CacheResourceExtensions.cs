using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Distill.Core.Safetensors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Distill.AppHost;

/// <summary>
/// Debian's <c>redis-server</c> as an Aspire executable resource, for machines without a container runtime: on
/// 127.0.0.1 at a free port, with its own data directory, append-only persistence, a memory bound and a password, and
/// the connection string <c>AddRedis</c> gives (<c>host:port,password=…</c>).
/// </summary>
public sealed class LocalRedisResource(string name, string workingDirectory, int port, ParameterResource password)
    : ExecutableResource(name, "redis-server", workingDirectory), IResourceWithConnectionString
{
    public int Port { get; } = port;

    public ParameterResource PasswordParameter { get; } = password;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"127.0.0.1:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)},password={PasswordParameter}");
}

public static class CacheResourceExtensions
{
    /// <summary>Least-recently-used keys go first past this: it is a cache of teacher log-probs, nothing in it is precious.</summary>
    public const int MaxMemoryMegabytes = 512;

    /// <summary>
    /// The teacher's score cache, exposing the connection string <paramref name="name"/>: <c>AddRedis</c> (a
    /// container) where a container runtime answers or <paramref name="mode"/> is <c>container</c>; else
    /// <see cref="LocalRedisResource"/>. The choice is logged.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddCache(
        this IDistributedApplicationBuilder builder, string name, string mode, string dataDirectory, ILogger logger)
    {
        bool container = mode switch
        {
            "container" => true,
            "executable" => false,
            _ => ContainerRuntimeAnswers(),
        };
        if (container)
        {
            logger.LogInformation("Cache: a Redis container (--cache {Mode}).", mode);
            var redis = builder.AddRedis(name).WithDataVolume().WithPersistence();
            return builder.CreateResourceBuilder<IResourceWithConnectionString>(redis.Resource);
        }

        var directory = Path.Combine(dataDirectory, name);
        Directory.CreateDirectory(directory);
        int port = FreeLoopbackPort();
        var secret = RandomNumberGenerator.GetHexString(32, lowercase: true);
        var password = builder.AddParameter($"{name}-password", () => secret, secret: true);
        // The password goes into a file only this user can read, not onto the command line, where any local user
        // could read it from /proc.
        var configuration = Path.Combine(directory, "redis.conf");
        AtomicWrite.WriteText(configuration, ownerOnly: true, content: string.Join('\n',
            "bind 127.0.0.1", "protected-mode yes", $"port {port}", $"dir {directory}",
            $"requirepass {secret}", $"maxmemory {MaxMemoryMegabytes}mb", "maxmemory-policy allkeys-lru",
            "appendonly yes", "save \"\"", ""));
        logger.LogInformation(
            "Cache: redis-server from PATH on 127.0.0.1:{Port}, data in {Directory} (--cache {Mode}; no container runtime answered or --cache executable).",
            port, directory, mode);

        var local = new LocalRedisResource(name, directory, port, password.Resource);
        var healthCheck = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis($"127.0.0.1:{port},password={secret},abortConnect=false", name: healthCheck);
        builder.AddResource(local)
            .WithArgs(configuration)
            .WithEndpoint(name: "tcp", port: port, targetPort: port, scheme: "tcp", isProxied: false)
            .WithHealthCheck(healthCheck);
        return builder.CreateResourceBuilder<IResourceWithConnectionString>(local);
    }

    private static bool ContainerRuntimeAnswers()
    {
        foreach (var runtime in new[] { "docker", "podman" })
        {
            try
            {
                // `docker --version` answers without an engine; `info` needs one.
                using var process = Process.Start(new ProcessStartInfo(runtime, "info")
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                });
                if (process is null) continue;
                if (!process.WaitForExit(TimeSpan.FromSeconds(10))) { process.Kill(entireProcessTree: true); continue; }
                if (process.ExitCode == 0) return true;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed.
            }
        }
        return false;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

}
