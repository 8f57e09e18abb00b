using Distill.Dashboard.Telemetry;
using Microsoft.Playwright;

namespace Distill.Dashboard.Tests;

/// <summary>
/// Debian's Chromium, driven by Playwright, reads the dashboard while two real services export to it: the trainer
/// calls the teacher over HTTP, so each training step is one trace across both.
/// </summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private static readonly string[] ChromiumArguments =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"];

    private readonly string reports = Directory.CreateTempSubdirectory("distill-reports-").FullName;
    private readonly string userData = Directory.CreateTempSubdirectory("distill-chromium-").FullName;
    private readonly string artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;
    private readonly TestServiceProcesses services = new();
    private DashboardHost dashboard = null!;
    private TestServiceProcess teacher = null!;
    private TestServiceProcess trainer = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(reports, "run-1"));
        File.WriteAllText(Path.Combine(reports, "run-1", "report.md"), "# Evaluation\nreward 0.75\n");
        File.WriteAllText(Path.Combine(reports, "run-1", "reward.svg"),
            """<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><polyline points="0,90 100,40 200,10" fill="none" stroke="green"/></svg>""");

        dashboard = await DashboardHost.StartAsync(o =>
        {
            o.Url = "http://127.0.0.1:0";
            o.ReportsDirectory = reports;
        }, services, CancellationToken.None);
        teacher = await TestServiceProcess.StartAsync("teacher", dashboard.OtlpEndpoint, new Dictionary<string, string>());
        services.Add(teacher);
        trainer = await TestServiceProcess.StartAsync("trainer", dashboard.OtlpEndpoint,
            new Dictionary<string, string> { ["DOWNSTREAM_URL"] = teacher.Url.ToString() });
        services.Add(trainer);
    }

    public async Task DisposeAsync()
    {
        await trainer.DisposeAsync();
        await teacher.DisposeAsync();
        await dashboard.DisposeAsync();
        Directory.Delete(reports, recursive: true);
        Directory.Delete(userData, recursive: true);
    }

    [Fact]
    public async Task A_trace_across_two_services_opens_as_a_waterfall_and_the_other_pages_show_their_signals()
    {
        using (var http = new HttpClient())
            for (int step = 0; step < 3; step++)
                (await http.PostAsync(new Uri(trainer.Url, "/step"), null)).EnsureSuccessStatusCode();
        // The trainer's server span, its step and client spans; the teacher's server span, cache lookup and forward.
        var trace = await WaitForAsync(() => dashboard.Telemetry.Traces().FirstOrDefault(t => t.Services.Count == 2 && t.SpanCount == 6));
        await WaitForAsync(() => dashboard.Telemetry.Series("distill.reward").FirstOrDefault());

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchPersistentContextAsync(userData, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArguments,
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        });
        var page = await browser.NewPageAsync();

        await page.GotoAsync(new Uri(dashboard.Url, "/traces").ToString());
        var row = page.Locator($"tr[data-trace-id='{trace.TraceId}']");
        await Assertions.Expect(row.Locator(".chip")).ToHaveTextAsync(["teacher", "trainer"]);
        await row.Locator("a").ClickAsync();

        await page.WaitForURLAsync($"**/traces/{trace.TraceId}");
        var spans = page.Locator("tr.span-row");
        await Assertions.Expect(spans).ToHaveCountAsync(6);
        Assert.Equal(["trainer", "trainer", "trainer", "teacher", "teacher", "teacher"],
            await spans.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.service)"));
        await Assertions.Expect(spans.Nth(1)).ToContainTextAsync("trainer step");
        await Assertions.Expect(spans.Nth(4)).ToContainTextAsync("cache lookup");
        await Assertions.Expect(spans.Nth(5)).ToContainTextAsync("forward");
        await spans.Nth(4).Locator("summary").ClickAsync();
        await Assertions.Expect(spans.Nth(4)).ToContainTextAsync("cache.hit");
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "trace-waterfall.png"), FullPage = true });

        await page.GetByText("logs of this trace").ClickAsync();
        var logs = page.Locator("main table tbody tr:has(details)");
        // ASP.NET Core's own request logs belong to the trace too; the services' logs are among them.
        await Assertions.Expect(logs.Filter(new() { HasText = "Cache miss; scored with a forward pass" })).ToContainTextAsync("Warning");
        await Assertions.Expect(logs.Filter(new() { HasText = "Step scored 0.75" })).ToContainTextAsync("trainer");
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "structured-logs.png"), FullPage = true });

        await page.GotoAsync(new Uri(dashboard.Url, "/metrics?name=distill.reward").ToString());
        await Assertions.Expect(page.Locator("svg.chart polyline.series")).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "metrics.png"), FullPage = true });

        await page.GotoAsync(new Uri(dashboard.Url, "/resources").ToString());
        await Assertions.Expect(page.Locator("main tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("main tbody")).ToContainTextAsync(trainer.Url.ToString());
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "resources.png"), FullPage = true });
        await page.Locator("main tbody tr", new() { HasText = "teacher" }).GetByText("console").ClickAsync();
        await Assertions.Expect(page.Locator("pre.console")).ToContainTextAsync("Now listening on");

        await page.GotoAsync(new Uri(dashboard.Url, "/reports").ToString());
        await Assertions.Expect(page.Locator("img[alt='run-1/reward.svg']")).ToBeVisibleAsync();
        var report = await page.APIRequest.GetAsync(new Uri(dashboard.Url, "/reports/files/run-1/report.md").ToString());
        Assert.Equal("# Evaluation\nreward 0.75\n", await report.TextAsync());
        var outside = await page.APIRequest.GetAsync(new Uri(dashboard.Url, "/reports/files/..%2F..%2Fetc%2Fpasswd").ToString());
        Assert.Equal(404, outside.Status);
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "reports.png"), FullPage = true });
    }

    /// <summary>Polls for up to 30 s; on timeout, says what the dashboard holds, which is what a failure needs.</summary>
    private async Task<T> WaitForAsync<T>(Func<T?> probe) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } found) return found;
            await Task.Delay(100);
        }
        var traces = dashboard.Telemetry.Traces().Select(t => $"{t.TraceId} [{string.Join(",", t.Services)}] {t.SpanCount} spans");
        var spans = dashboard.Telemetry.Spans.Select(s => $"{s.Source}: {s.Name} {s.TraceId}/{s.SpanId}<-{s.ParentSpanId}");
        throw new TimeoutException($"Not there after 30 s. Traces:\n{string.Join('\n', traces)}\nSpans:\n{string.Join('\n', spans)}\n" +
                                   $"Metrics: {string.Join(", ", dashboard.Telemetry.Metrics().Select(m => m.Name))}");
    }
}
