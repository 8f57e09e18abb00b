using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Distill.Evaluator.Cli;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Http;
using Distill.Evaluator.Runs;
using Microsoft.AspNetCore.Builder;

namespace Distill.Evaluator.Tests;

/// <summary>The real web application on a free local port, over real run directories.</summary>
public sealed class HttpApiTests : IAsyncLifetime
{
    private readonly TemporaryDirectory directory = new();
    private WebApplication? app;
    private HttpClient http = new();

    public async Task InitializeAsync()
    {
        var runsRoot = directory.Combine("runs");
        var run = TestRuns.CreateRun(Path.Combine(runsRoot, "cmdp-a"), "cmdp-a");
        TestRuns.StoreEvaluation(run, TestRuns.Evaluation("cmdp-a", 50, accuracy: 0.5, satisfaction: 0.9, costMean: 1.25));
        EvaluationStore.WriteFailure(run.EvaluationPath(100),
            new EvaluationFailure("cmdp-a", 100, run.CheckpointPath(100), "model.safetensors: truncated", DateTimeOffset.UnixEpoch));
        Directory.CreateDirectory(Path.Combine(runsRoot, "not-a-run"));

        app = EvaluatorWebApplication.Create(new CommandInput(
            new Dictionary<string, string?> { ["Evaluator:RunsRoot"] = runsRoot, ["urls"] = "http://127.0.0.1:0" }, []));
        await app.StartAsync();
        var address = app.Urls.Single();
        http = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        if (app is not null) await app.DisposeAsync();
        directory.Dispose();
    }

    [Fact]
    public async Task ListsEvaluatedAndFailedCheckpoints()
    {
        var listing = await http.GetFromJsonAsync<EvaluationListing[]>("/v1/evaluations");

        Assert.Equal(2, listing!.Length);
        Assert.Equal(new EvaluationListing("cmdp-a", 50, "evaluated", 0.5, 0.9, 1.25, null, "/v1/evaluations/cmdp-a/50"), listing[0]);
        Assert.Equal(new EvaluationListing("cmdp-a", 100, "failed", null, null, null, "model.safetensors: truncated", "/v1/evaluations/cmdp-a/100"), listing[1]);
    }

    [Fact]
    public async Task ServesOneEvaluationWithEnumsByName()
    {
        using var response = await http.GetAsync("/v1/evaluations/cmdp-a/50");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(50, json.RootElement.GetProperty("step").GetInt32());
        Assert.Equal("top-k-exact", json.RootElement.GetProperty("constraint").GetProperty("estimator").GetString());
        Assert.Equal(0.9, json.RootElement.GetProperty("metrics").GetProperty("satisfactionRate").GetDouble());
    }

    [Fact]
    public async Task AFailedCheckpointIs422WithTheReasonAndAnUnknownOneIs404()
    {
        using var failed = await http.GetAsync("/v1/evaluations/cmdp-a/100");
        using var unknownStep = await http.GetAsync("/v1/evaluations/cmdp-a/150");
        using var unknownRun = await http.GetAsync("/v1/evaluations/nobody/50");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, failed.StatusCode);
        Assert.Contains("model.safetensors: truncated", await failed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, unknownStep.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownRun.StatusCode);
    }

    [Fact]
    public async Task HealthIsUp()
    {
        using var response = await http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
