using System.Net.Sockets;
using System.Text;

namespace Distill.AppHost.Hosting;

/// <summary>
/// A private <c>redis-server</c> from PATH on a free loopback port, with its own data directory and a memory bound
/// (least-recently-used keys are evicted: it is a cache of teacher log-probs, nothing in it is precious).
/// </summary>
public sealed class RedisResource(string name, int maxMemoryMegabytes) : ProcessResource(name)
{
    public int Port { get; internal set; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public override IEnumerable<KeyValuePair<string, string>> ReferenceEnvironment()
    {
        yield return new($"ConnectionStrings__{Name}", ConnectionString);
    }

    public override (string FileName, IReadOnlyList<string> Arguments) Command(string dataDirectory)
    {
        var directory = Path.Combine(dataDirectory, Name);
        Directory.CreateDirectory(directory);
        return ("redis-server",
        [
            "--bind", "127.0.0.1", "--port", Port.ToString(), "--dir", directory,
            "--maxmemory", $"{maxMemoryMegabytes}mb", "--maxmemory-policy", "allkeys-lru",
            "--save", "", "--appendonly", "no",
        ]);
    }

    public override async Task<bool> IsHealthyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
            var buffer = new byte[16];
            int read = await stream.ReadAsync(buffer, cancellationToken);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>A Redis this host does not start: the user named one with <c>ConnectionStrings:cache</c>.</summary>
public sealed class ExistingConnectionResource(string name, string connectionString) : Resource(name)
{
    public override IEnumerable<KeyValuePair<string, string>> ReferenceEnvironment()
    {
        yield return new($"ConnectionStrings__{Name}", connectionString);
    }
}
