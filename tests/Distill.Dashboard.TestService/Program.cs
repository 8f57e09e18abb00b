using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

// Plays the trainer (POST /step calls DOWNSTREAM_URL's /score) or the teacher (POST /score: a cache lookup, then a
// forward pass), so that one training step makes one trace across two services, as in Distill.
const string TelemetryName = "Distill.Dashboard.TestService";

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddOpenTelemetry(logging =>
{
    logging.IncludeFormattedMessage = true;
    logging.IncludeScopes = true;
});
// Endpoint, protocol, service name and instance id come from the OTEL_* environment, as the AppHost sets them.
builder.Services.AddOpenTelemetry()
    .WithTracing(tracing => tracing.AddSource(TelemetryName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation())
    // Only this service's own gauge and counter: with the central versions (OpenTelemetry 1.20.1 beside
    // Exporter.OpenTelemetryProtocol 1.20.0) the exporter drops every metrics batch that holds a histogram, and
    // ASP.NET Core's request duration is one.
    .WithMetrics(metrics => metrics.AddMeter(TelemetryName))
    .UseOtlpExporter();
builder.Services.AddHttpClient();

var app = builder.Build();
var activities = new ActivitySource(TelemetryName);
var meter = new Meter(TelemetryName);
var reward = meter.CreateGauge<double>("distill.reward", description: "Reward of the last step");
var cacheLookups = meter.CreateCounter<long>("distill.teacher.cache.lookups", description: "Teacher cache lookups");

app.MapGet("/health", () => "Healthy");

app.MapPost("/step", async (IHttpClientFactory clients, IConfiguration configuration, ILogger<Program> logger) =>
{
    var downstream = configuration["DOWNSTREAM_URL"] ?? throw new InvalidOperationException("DOWNSTREAM_URL is not set.");
    using var step = activities.StartActivity("trainer step");
    using var response = await clients.CreateClient().PostAsync(new Uri(new Uri(downstream), "/score"), null);
    double score = double.Parse(await response.Content.ReadAsStringAsync(), System.Globalization.CultureInfo.InvariantCulture);
    reward.Record(score);
    logger.LogInformation("Step scored {Reward}", score);
    return Results.Ok(score);
});

app.MapPost("/score", async (ILogger<Program> logger) =>
{
    using (var cache = activities.StartActivity("cache lookup"))
    {
        cache?.SetTag("cache.hit", false);
        cacheLookups.Add(1, new KeyValuePair<string, object?>("hit", false));
        await Task.Delay(5);
    }
    using (activities.StartActivity("forward"))
    {
        await Task.Delay(20);
    }
    logger.LogWarning("Cache miss; scored with a forward pass");
    return Results.Text("0.75");
});

app.Run();
