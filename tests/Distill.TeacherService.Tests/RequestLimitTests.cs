using System.Net.Sockets;
using System.Text;
using Distill.Testing;

namespace Distill.TeacherService.Tests;

/// <summary>
/// Issue 15: the sequence-count limit was checked only once the whole body was read and held as objects (a 27 MB body
/// of 300k sequences took 1.5 s and 100 MB before its 400). The limit must refuse such a body while reading it.
/// </summary>
public sealed class RequestLimitTests : IAsyncLifetime
{
    private readonly TeacherCheckpoint _checkpoint = new();
    private TeacherHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = TeacherHost.Start(TeacherHost.Settings(_checkpoint.Directory));
        await _host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _checkpoint.Dispose();
    }

    [Fact]
    public async Task ABodyOfTooManySequencesIsRefusedBeforeItHasBeenSent()
    {
        // 300k sequences announced (27 MB, under the 32 MB body limit), of which only the first 1000 are ever sent: a
        // service that waits for the whole body before counting never answers.
        const string sequence = """{"promptTokenIds":[1,2,3,4,5,6,7,8],"completionTokenIds":[9,10,11,12,13,14,15,16,17,18,19,20]},""";
        const int announced = 300_000, sent = 1_000;
        const string head = """{"topK":0,"sequences":[""";
        long contentLength = Encoding.UTF8.GetByteCount(head) + (long)announced * sequence.Length + 1;
        Assert.InRange(contentLength, 25_000_000, 32 * 1024 * 1024);

        using var client = new TcpClient();
        await client.ConnectAsync(_host.Address.Host, _host.Address.Port);
        var stream = client.GetStream();
        var request = new StringBuilder()
            .Append($"POST /v1/score HTTP/1.1\r\nHost: {_host.Address.Authority}\r\nContent-Type: application/json\r\n")
            .Append($"Content-Length: {contentLength}\r\n\r\n")
            .Append(head);
        for (var i = 0; i < sent; i++) request.Append(sequence);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var response = await ReadResponseAsync(stream, timeout.Token);
        Assert.True(response.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), response);
        Assert.Contains("\"sequences\":[\"At most 256 sequences per request", response);
    }

    /// <summary>Reads until the refusal's message has arrived or the connection closes; fails when the time is up.</summary>
    private static async Task<string> ReadResponseAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new StringBuilder();
        var buffer = new byte[8192];
        try
        {
            while (!received.ToString().Contains("sequences per request", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0) break;
                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
        catch (IOException)
        {
            // The service may close the connection once it has answered, with the rest of the body unread.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no answer within 15 s while the body was still being sent; received so far: '{received}'");
        }
        return received.ToString();
    }
}
