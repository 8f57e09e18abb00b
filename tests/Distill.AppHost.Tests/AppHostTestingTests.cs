using Distill.Core.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.AppHost.Tests;

/// <summary>
/// The real AppHost through <c>Aspire.Hosting.Testing</c>: its resource graph runs a tiny schedule end to end, and the
/// resource commands a person uses at the dashboard ("Checkpoint now" on the trainer, "Evaluate latest checkpoint" on
/// the evaluator) do what they say.
/// </summary>
public sealed class AppHostTestingTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);
    private readonly TinyPlatformData data = new();

    [Fact]
    public async Task ATinyScheduleRunsEndToEndAndTheResourceCommandsCheckpointAndEvaluate()
    {
        const int steps = 20;
        using var timeout = new CancellationTokenSource(Patience);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Distill_AppHost>(
            ["--data-dir", data.Directory, "--device", "cpu", .. data.Flags(steps, steps)], timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);

        // The cache wants its password: a local process without it cannot plant log-probs.
        var cache = await app.GetConnectionStringAsync("cache", timeout.Token);
        Assert.Matches(@"^127\.0\.0\.1:\d+,password=[0-9a-f]{32}$", cache);
        Assert.StartsWith("-NOAUTH", await RedisReplyAsync(cache!.Split(',')[0], "SET distill:planted 1"));
        Assert.Equal("+OK", await RedisReplyAsync(cache.Split(',')[0], $"AUTH {cache.Split("password=")[1]}"));

        var run = new RunDirectory(Path.Combine(data.RunsDirectory, "default"));
        while (!(File.Exists(run.MetricsPath) && File.ReadAllLines(run.MetricsPath).Length >= 1))
            await Task.Delay(200, timeout.Token);
        var commands = app.Services.GetRequiredService<ResourceCommandService>();

        var checkpoint = await commands.ExecuteCommandAsync("trainer", "checkpoint-now", timeout.Token);
        Assert.True(checkpoint.Success, checkpoint.Message);
        CheckpointAnnouncement? early = null;
        while ((early = run.ReadAnnouncements().FirstOrDefault()) is null)
            await Task.Delay(200, timeout.Token);
        Assert.True(early.Step < steps, $"the first checkpoint is the scheduled one (step {early.Step})");

        var evaluate = await commands.ExecuteCommandAsync("evaluator", "evaluate-latest", timeout.Token);
        Assert.True(evaluate.Success, evaluate.Message);
        Assert.True(File.Exists(Path.Combine(run.EvaluationPath(early.Step), "evaluation.json")), "no evaluation of the requested checkpoint");

        await app.ResourceNotifications.WaitForResourceAsync("evaluator",
            state => state.Snapshot.State?.Text is "Exited" or "Finished", timeout.Token);
        Assert.True(run.IsCompleted);
        Assert.True(File.Exists(Path.Combine(run.EvaluationPath(steps), "evaluation.json")), "no evaluation of the final checkpoint");
        Assert.True(File.Exists(Path.Combine(run.EvaluationPath(0), "evaluation.json")), "no evaluation of the starting student");
    }

    private static async Task<string> RedisReplyAsync(string hostAndPort, string command)
    {
        var (host, port) = (hostAndPort.Split(':')[0], int.Parse(hostAndPort.Split(':')[1]));
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(host, port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(command + "\r\n"));
        var buffer = new byte[256];
        int read = await stream.ReadAsync(buffer);
        return System.Text.Encoding.ASCII.GetString(buffer, 0, read).TrimEnd();
    }

    public void Dispose() => data.Dispose();
}
