using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using RpcStatus = Distill.Dashboard.Otlp.Rpc.Status;

namespace Distill.Dashboard.Tests;

/// <summary>A bad export is refused with 400 and takes nothing already stored with it.</summary>
public sealed class MalformedPayloadTests : IAsyncLifetime
{
    private DashboardHost dashboard = null!;
    private HttpClient http = null!;

    public async Task InitializeAsync()
    {
        dashboard = await DashboardHost.StartAsync(o => o.Url = "http://127.0.0.1:0", resources: null, CancellationToken.None);
        http = new HttpClient { BaseAddress = dashboard.Url };
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        await dashboard.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostAsync(string path, byte[] body, string contentType = "application/x-protobuf", bool gzip = false)
    {
        if (gzip)
        {
            using var compressed = new MemoryStream();
            using (var zip = new GZipStream(compressed, CompressionLevel.Fastest)) zip.Write(body);
            body = compressed.ToArray();
        }
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (gzip) content.Headers.ContentEncoding.Add("gzip");
        return http.PostAsync(path, content);
    }

    [Fact]
    public async Task Malformed_payloads_get_400_with_a_status_body_and_earlier_telemetry_stays()
    {
        using (var accepted = await PostAsync("/v1/traces", OtlpRequests.Traces("score").ToByteArray()))
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);

        // A length-delimited field that claims more bytes than follow; then a valid message with a 3-byte trace id.
        byte[] truncated = [0x0A, 0xFF, 0xFF, 0x03, 0x01, 0x02];
        foreach (var (path, body) in new[] { ("/v1/traces", truncated), ("/v1/logs", truncated), ("/v1/metrics", truncated),
                                             ("/v1/traces", OtlpRequests.Traces("bad id", traceIdLength: 3).ToByteArray()) })
        {
            using var refused = await PostAsync(path, body);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/x-protobuf", refused.Content.Headers.ContentType?.MediaType);
            var status = RpcStatus.Parser.ParseFrom(await refused.Content.ReadAsByteArrayAsync());
            Assert.Equal(3, status.Code);
            Assert.NotEmpty(status.Message);
        }

        var span = Assert.Single(dashboard.Telemetry.Spans);
        Assert.Equal(("score", "teacher", string.Concat(Enumerable.Repeat("01", 16))), (span.Name, span.Source.ServiceName, span.TraceId));
    }

    [Fact]
    public async Task A_body_that_is_not_protobuf_gets_415_and_a_gzipped_one_is_accepted()
    {
        using (var json = await PostAsync("/v1/traces", "{}"u8.ToArray(), "application/json"))
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        using (var zipped = await PostAsync("/v1/traces", OtlpRequests.Traces("zipped").ToByteArray(), gzip: true))
            Assert.Equal(HttpStatusCode.OK, zipped.StatusCode);

        Assert.Equal(["zipped"], dashboard.Telemetry.Spans.Select(s => s.Name));
    }
}
