using System.Globalization;
using Distill.Core.Runs;
using Distill.Dashboard.Telemetry;
using Distill.Testing;
using Microsoft.Playwright;

namespace Distill.Dashboard.Tests;

/// <summary>
/// Debian's Chromium, driven by Playwright, reads the dashboard while the real services export to it as the AppHost
/// runs them: the teacher service (torch backend, a tiny random checkpoint, a real Redis cache) and the trainer, whose
/// one training step scores its samples through the Refit teacher client, so the step is one trace across both.
/// </summary>
public sealed class RealTeacherServiceBrowserTests : IAsyncLifetime
{
    private static readonly string[] ChromiumArguments =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"];

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);

    private readonly string reports = Directory.CreateTempSubdirectory("distill-reports-").FullName;
    private readonly string runs = Directory.CreateTempSubdirectory("distill-runs-").FullName;
    private readonly string userData = Directory.CreateTempSubdirectory("distill-chromium-").FullName;
    private readonly string artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;
    // Both share the char tokenizer, as the trainer requires; the generated task's prompts need more than 64 positions.
    private readonly TeacherCheckpoint teacherModel = new(seed: 7, maxContext: 256);
    private readonly TeacherCheckpoint studentModel = new(seed: 8, maxContext: 256);
    private readonly RedisServerFixture redis = new();
    private readonly ServiceProcesses services = new();
    private DashboardHost dashboard = null!;
    private ServiceProcess teacher = null!;
    private ServiceProcess? trainer;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(reports, "run-1"));
        File.WriteAllText(Path.Combine(reports, "run-1", "report.md"), "# Evaluation\nreward 0.75\n");
        File.WriteAllText(Path.Combine(reports, "run-1", "reward.svg"),
            """<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><polyline points="0,90 100,40 200,10" fill="none" stroke="green"/></svg>""");

        await redis.InitializeAsync();
        dashboard = await DashboardHost.StartAsync(o =>
        {
            o.Url = "http://127.0.0.1:0";
            o.ReportsDirectory = reports;
        }, services, CancellationToken.None);
        teacher = ServiceProcess.Start("teacher", ServiceProcess.AssemblyOf("Distill.TeacherServicePath"), [], dashboard.OtlpEndpoint,
            new Dictionary<string, string>
            {
                ["Teacher__Backend"] = "torch",
                ["Teacher__ModelPath"] = teacherModel.Directory,
                ["Teacher__Device"] = "cpu",
                ["ConnectionStrings__cache"] = redis.ConnectionString,
            });
        services.Add(teacher);
        // Healthy: the checkpoint is loaded and the cache connected.
        await teacher.WaitUntilHealthyAsync(Patience);
    }

    public async Task DisposeAsync()
    {
        if (trainer is not null) await trainer.DisposeAsync();
        if (teacher is not null) await teacher.DisposeAsync();
        if (dashboard is not null) await dashboard.DisposeAsync();
        await redis.DisposeAsync();
        teacherModel.Dispose();
        studentModel.Dispose();
        Directory.Delete(reports, recursive: true);
        Directory.Delete(runs, recursive: true);
        Directory.Delete(userData, recursive: true);
    }

    [Fact]
    public async Task A_real_training_step_scored_by_the_real_teacher_service_opens_as_one_waterfall_across_both_services()
    {
        // One cmdp step: generate 2 × 2 samples, score them with the teacher (one POST /v1/score), update the student.
        trainer = ServiceProcess.Start("trainer", ServiceProcess.AssemblyOf("Distill.StudentTrainerPath"),
            ["--student", studentModel.Directory, "--teacher", teacher.Url!.ToString(), "--run-dir", Path.Combine(runs, "run-1"),
             "--objective", "cmdp", "--threshold", "12", "--steps", "1", "--batch-size", "2", "--group-size", "2",
             "--max-new-tokens", "8", "--device", "cpu"],
            dashboard.OtlpEndpoint, new Dictionary<string, string>());
        services.Add(trainer);

        // Chromium opens the dashboard while the trainer starts and scores.
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

        // The step's trace is complete once the trainer's root span and the teacher's server span have both arrived:
        // each service exports its spans in the order they end, and those two end last on their sides.
        var trace = await WaitForAsync(() => dashboard.Telemetry.Traces().FirstOrDefault(t =>
            t.RootName == "trainer.step" && t.Services.Count == 2 &&
            dashboard.Telemetry.Trace(t.TraceId).Any(s => s.Span.Source.ServiceName == "teacher" && s.Span.Kind == SpanKind.Server)));
        Assert.Equal(0, await trainer.WaitForExitAsync(Patience));

        // Found on the page: the one trace across both services whose root is the training step.
        await page.ReloadAsync();
        var row = page.Locator("tr[data-services='2']", new() { HasText = "trainer: trainer.step" });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        Assert.Equal(trace.TraceId, await row.GetAttributeAsync("data-trace-id"));
        await Assertions.Expect(row.Locator(".chip")).ToHaveTextAsync(["teacher", "trainer"]);
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "traces.png"), FullPage = true });
        await row.Locator("a").ClickAsync();

        await page.WaitForURLAsync($"**/traces/{trace.TraceId}");
        var spans = page.Locator("tr.span-row");
        (string Service, string Name)[] waterfall =
        [
            ("trainer", "trainer.step"),
            ("trainer", "trainer.generate"),
            ("trainer", "trainer.teacher_score"),
            ("trainer", "POST"),
            ("teacher", "POST /v1/score"),
            ("teacher", "teacher.score"),
            ("teacher", "teacher.cache.lookup"),
            ("teacher", "teacher.batch.wait"),
            ("trainer", "trainer.update"),
        ];
        await Assertions.Expect(spans).ToHaveCountAsync(waterfall.Length);
        Assert.Equal(waterfall.Select(s => s.Service), await spans.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.service)"));
        Assert.Equal(waterfall.Select(s => s.Name),
            await spans.EvaluateAllAsync<string[]>("rows => rows.map(r => r.querySelector('summary span:not(.chip)').textContent.trim())"));
        // The teacher's server span is the child of the trainer's client span: the context crossed the HTTP call.
        var (client, server) = (await SpanAsync(spans.Nth(3)), await SpanAsync(spans.Nth(4)));
        Assert.Equal((SpanKind.Client, SpanKind.Server, client.SpanId), (client.Kind, server.Kind, server.ParentSpanId));
        // The lookup of the step's 2 × 2 fresh samples: the cache had none of them.
        await spans.Nth(6).Locator("summary").ClickAsync();
        await Assertions.Expect(Attribute(spans.Nth(6), "teacher.cache.hits")).ToHaveTextAsync("0");
        await Assertions.Expect(Attribute(spans.Nth(6), "teacher.cache.misses")).ToHaveTextAsync("4");
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "trace-waterfall.png"), FullPage = true });
        // The forward pass is not among them: the batcher runs it in a trace of its own, linked to the requests it serves.
        var batch = await WaitForAsync(() => dashboard.Telemetry.Traces().FirstOrDefault(t => t.RootName == "teacher.batch"));
        Assert.Equal(["teacher.batch", "teacher.forward"], dashboard.Telemetry.Trace(batch.TraceId).Select(s => s.Span.Name));

        // Logs travel in their own exports (the teacher's every second, the trainer's last one as it exits): the page
        // shows what the store holds when it renders, so wait until the ones looked for below are in.
        foreach (var (service, text) in new[] { ("trainer", "Resilience pipeline executed"), ("teacher", "Request starting HTTP/1.1 POST") })
            await WaitForAsync(() => dashboard.Telemetry.QueryLogs(new LogQuery(service, TraceId: trace.TraceId, Text: text)).FirstOrDefault());
        await page.GetByText("logs of this trace").ClickAsync();
        var logs = page.Locator("main table tbody tr:has(details)");
        // The services' own request logs: the trainer's teacher client sending the request through its resilience
        // pipeline (Polly, one attempt), the teacher receiving it.
        await Assertions.Expect(logs.Filter(new() { HasText = "Start processing HTTP request POST" })).ToContainTextAsync("trainer");
        await Assertions.Expect(logs.Filter(new() { HasText = "Resilience pipeline executed" })).ToContainTextAsync("ITeacherApi");
        await Assertions.Expect(logs.Filter(new() { HasText = "Execution attempt" })).ToContainTextAsync("Attempt: '0'");
        await Assertions.Expect(logs.Filter(new() { HasText = "Request starting HTTP/1.1 POST" })).ToContainTextAsync("teacher");
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "structured-logs.png"), FullPage = true });

        // The step's KL to the teacher, from the trainer's TrainerTelemetry, is the one its run wrote to metrics.jsonl;
        // the teacher's own meters (TeacherTelemetry) are listed beside it.
        var step = Assert.Single(new RunDirectory(Path.Combine(runs, "run-1")).ReadMetrics());
        await WaitForAsync(() => dashboard.Telemetry.Series("distill.trainer.kl.mean").FirstOrDefault());
        await WaitForAsync(() => dashboard.Telemetry.Series("distill.teacher.forward_passes").FirstOrDefault());
        await page.GotoAsync(new Uri(dashboard.Url, "/metrics?name=distill.trainer.kl.mean").ToString());
        await Assertions.Expect(page.Locator("svg.chart polyline.series")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("table.legend tbody tr td").Nth(2)).ToHaveTextAsync(step.CostMean.ToString("G6", CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator(".catalog a", new() { HasText = "distill.teacher.forward_passes" })).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "metrics.png"), FullPage = true });

        await page.GotoAsync(new Uri(dashboard.Url, "/resources").ToString());
        await Assertions.Expect(page.Locator("main tbody tr")).ToHaveCountAsync(2);
        var teacherRow = page.Locator("main tbody tr", new() { HasText = "teacher" });
        await Assertions.Expect(teacherRow).ToContainTextAsync(teacher.Url.ToString());
        await Assertions.Expect(teacherRow.Locator("td").Nth(2)).ToHaveTextAsync("Healthy");
        await Assertions.Expect(page.Locator("main tbody tr", new() { HasText = "trainer" }).Locator("td").Nth(1)).ToHaveTextAsync("Finished");
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "resources.png"), FullPage = true });
        await page.Locator("main tbody tr", new() { HasText = "trainer" }).GetByText("console").ClickAsync();
        await Assertions.Expect(page.Locator("pre.console")).ToContainTextAsync("step 1/1: reward");

        await page.GotoAsync(new Uri(dashboard.Url, "/reports").ToString());
        await Assertions.Expect(page.Locator("img[alt='run-1/reward.svg']")).ToBeVisibleAsync();
        var report = await page.APIRequest.GetAsync(new Uri(dashboard.Url, "/reports/files/run-1/report.md").ToString());
        Assert.Equal("# Evaluation\nreward 0.75\n", await report.TextAsync());
        var outside = await page.APIRequest.GetAsync(new Uri(dashboard.Url, "/reports/files/..%2F..%2Fetc%2Fpasswd").ToString());
        Assert.Equal(404, outside.Status);
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "reports.png"), FullPage = true });
    }

    /// <summary>The value cell of one attribute in a waterfall row's opened details.</summary>
    private static ILocator Attribute(ILocator row, string key) =>
        row.Locator("details table tr").Filter(new() { Has = row.Page.GetByRole(AriaRole.Cell, new() { Name = key, Exact = true }) }).Locator("td").Nth(1);

    /// <summary>The span a waterfall row shows, as the dashboard received it.</summary>
    private async Task<SpanRecord> SpanAsync(ILocator row)
    {
        var id = await row.GetAttributeAsync("data-span-id");
        return dashboard.Telemetry.Spans.Single(s => s.SpanId == id);
    }

    /// <summary>Polls; on timeout, says what the dashboard holds and what the services printed, which is what a failure needs.</summary>
    private async Task<T> WaitForAsync<T>(Func<T?> probe) where T : class
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } found) return found;
            await Task.Delay(100);
        }
        var traces = dashboard.Telemetry.Traces().Select(t => $"{t.TraceId} [{string.Join(",", t.Services)}] {t.RootName}: {t.SpanCount} spans");
        var spans = dashboard.Telemetry.Spans.Select(s => $"{s.Source}: {s.Name} ({s.Kind}) {s.TraceId}/{s.SpanId}<-{s.ParentSpanId}");
        var logs = dashboard.Telemetry.Logs.Select(l => $"{l.Source.ServiceName} {l.Timestamp:HH:mm:ss.fff} {l.TraceId}: {l.Message}");
        var consoles = services.Resources.Select(r => $"--- {r.Name}:\n{string.Join('\n', services.ConsoleLines(r.Name, 40))}");
        throw new TimeoutException($"Not there after {Patience.TotalSeconds:0} s. Traces:\n{string.Join('\n', traces)}\nSpans:\n{string.Join('\n', spans)}\n" +
                                   $"Logs:\n{string.Join('\n', logs)}\nMetrics: {string.Join(", ", dashboard.Telemetry.Metrics().Select(m => m.Name))}\n{string.Join('\n', consoles)}");
    }
}
