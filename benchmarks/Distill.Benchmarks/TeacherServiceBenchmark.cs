using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Distill.Core.Contracts;
using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.Core.Tokenization;
using Distill.StudentTrainer.Bootstrap;
using Distill.TeacherService;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TorchSharp;

/// <summary>
/// The teacher service end to end: a teacher-sized random checkpoint served by the torch backend on Kestrel with a
/// real redis-server, scored over HTTP by 1, 8 and 32 concurrent clients, first cold (every sequence a cache miss),
/// then the same requests again (every sequence a hit); against <see cref="ModelScorer"/> in process on the same
/// sequences in the batches the service's batcher could form from them. Service and in-process runs alternate round
/// by round, so a machine whose load swings (other people's builds) weighs on both alike.
/// </summary>
internal static class TeacherServiceBenchmark
{
    private const int SequencesPerRequest = 4;
    private const int TopK = 8;

    /// <summary>
    /// Each client sends at least this many requests a round, so the batcher's start (a first pass of whatever came in
    /// its window) and drain (a last, partial pass) do not decide the throughput of a round with many clients.
    /// </summary>
    private const int MinRequestsPerClient = 4;
    private static readonly int[] ClientCounts = [1, 8, 32];

    public static async Task RunAsync(int rounds, int requestsPerRound)
    {
        var root = Directory.CreateTempSubdirectory("distill-teacher-benchmark-").FullName;
        try
        {
            // The default teacher's architecture, random-initialised: serving cost does not depend on what it learned.
            var checkpoint = Path.Combine(root, "teacher");
            var config = DefaultModels.Teacher(CharTokenizer.Default).Config with { TorchDtype = "float32" };
            torch.manual_seed(0);
            using (var random = new LlamaForCausalLM(config))
                ModelCheckpoint.Save(checkpoint, random, config, CharTokenizer.Default.ToFiles());

            using var redis = await RedisServerProcess.StartAsync();
            await using var service = await StartServiceAsync(checkpoint, redis.ConnectionString);
            var address = service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(10) };
            await WaitUntilHealthyAsync(http);
            using var model = ModelCheckpoint.Load(checkpoint, torch.CPU).Model;
            var inProcess = new ModelScorer(model);
            var maxBatchSequences = new BatchingOptions().MaxBatchSequences;

            var workload = new Random(1);
            await RunClientsAsync(http, Requests(workload, 2), clients: 2, expectCached: false);
            await inProcess.ScoreAsync(Items(Requests(workload, 1)), TopK);

            Console.WriteLine($"torch threads {torch.get_num_threads()}, {rounds} rounds of max({requestsPerRound}, {MinRequestsPerClient} x clients) requests per level, " +
                $"{SequencesPerRequest} sequences per request (prompt 90-110, completion 35-45 tokens), top-{TopK}; tokens/s counts " +
                $"completion tokens, median of the rounds; latency percentiles over all rounds' requests (in process: batches)");
            Console.WriteLine("| clients | path | tokens/s | p50 ms | p99 ms | load average (1/5/15 min) |");
            Console.WriteLine("|---:|---|---:|---:|---:|---|");
            foreach (var clients in ClientCounts)
            {
                var batchSize = Math.Min(clients * SequencesPerRequest, maxBatchSequences);
                List<Measurement> cold = [], cached = [], baseline = [];
                for (var round = 0; round < rounds; round++)
                {
                    var requests = Requests(workload, Math.Max(requestsPerRound, MinRequestsPerClient * clients));
                    cold.Add(await RunClientsAsync(http, requests, clients, expectCached: false));
                    cached.Add(await RunClientsAsync(http, requests, clients, expectCached: true));
                    baseline.Add(await RunInProcessAsync(inProcess, Items(requests), batchSize));
                }
                var (coldRate, cachedRate, baselineRate) = (Print(clients, "service, cold (cache miss)", cold),
                    Print(clients, "service, cached", cached), Print(clients, $"in-process ModelScorer, batches of {batchSize}", baseline));
                Console.WriteLine($"| {clients} | service cold / in-process | {coldRate / baselineRate:P0} | | | |");
                Console.WriteLine($"| {clients} | cached / cold | {cachedRate / coldRate:N1}x | | | |");
            }
            // Stopped before it is disposed: a host disposed while running cancels its batcher as a failure, not a shutdown.
            await service.StopAsync();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record Measurement(double TokensPerSecond, double[] LatenciesMilliseconds);

    /// <summary>Prints the median throughput of the rounds with the pooled latency percentiles; returns the throughput.</summary>
    private static double Print(int clients, string path, List<Measurement> rounds)
    {
        var rates = rounds.Select(m => m.TokensPerSecond).Order().ToArray();
        var latencies = rounds.SelectMany(m => m.LatenciesMilliseconds).Order().ToArray();
        double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
        var median = rates[rates.Length / 2];
        Console.WriteLine($"| {clients} | {path} | {median:N0} | {Percentile(0.50):N1} | {Percentile(0.99):N1} | {LoadAverage()} |");
        return median;
    }

    private static ScoreRequest[] Requests(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => new ScoreRequest(
            Enumerable.Range(0, SequencesPerRequest).Select(_ => new ScoreSequence(
                Enumerable.Range(0, random.Next(90, 111)).Select(_ => random.Next(CharTokenizer.Default.VocabularySize)).ToArray(),
                Enumerable.Range(0, random.Next(35, 46)).Select(_ => random.Next(CharTokenizer.Default.VocabularySize)).ToArray())).ToArray(),
            TopK)).ToArray();

    private static ScoringItem[] Items(ScoreRequest[] requests) =>
        requests.SelectMany(r => r.Sequences).Select(s => new ScoringItem(s.PromptTokenIds, s.CompletionTokenIds)).ToArray();

    private static int CompletionTokens(IEnumerable<ScoringItem> items) => items.Sum(item => item.CompletionTokenIds.Length);

    /// <summary>Each client sends the next unsent request as soon as its previous one is answered.</summary>
    private static async Task<Measurement> RunClientsAsync(HttpClient http, ScoreRequest[] requests, int clients, bool expectCached)
    {
        var latencies = new double[requests.Length];
        var next = -1;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < requests.Length)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync("/v1/score", requests[index]);
                response.EnsureSuccessStatusCode();
                var scored = (await response.Content.ReadFromJsonAsync<ScoreResponse>())!;
                latencies[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (scored.Sequences.Any(s => s.Cached != expectCached))
                    throw new InvalidOperationException($"request {index}: expected every sequence {(expectCached ? "cached" : "scored")}.");
            }
        }));
        return new Measurement(CompletionTokens(Items(requests)) / total.Elapsed.TotalSeconds, latencies);
    }

    private static async Task<Measurement> RunInProcessAsync(ModelScorer scorer, ScoringItem[] items, int batchSize)
    {
        var batches = items.Chunk(batchSize).ToArray();
        var latencies = new double[batches.Length];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < batches.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await scorer.ScoreAsync(batches[i], TopK);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        return new Measurement(CompletionTokens(items) / total.Elapsed.TotalSeconds, latencies);
    }

    /// <summary>The service as Program.cs composes it, on a free loopback port, warnings and errors logged only.</summary>
    internal static async Task<WebApplication> StartServiceAsync(string checkpoint, string redis)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Teacher:Backend"] = TeacherBackends.Torch,
            ["Teacher:ModelPath"] = checkpoint,
            ["Teacher:Device"] = "cpu",
            ["ConnectionStrings:cache"] = redis,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.AddTeacherService();
        var app = builder.Build();
        app.MapTeacherService();
        await app.StartAsync();
        return app;
    }

    internal static async Task WaitUntilHealthyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (await (await http.GetAsync("/health")).Content.ReadAsStringAsync() != "Healthy")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The teacher service did not become ready.");
            await Task.Delay(100);
        }
    }

    internal static string LoadAverage() => string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    /// <summary>redis-server on a free port, without persistence, stopped on dispose.</summary>
    internal sealed class RedisServerProcess(Process server, int port) : IDisposable
    {
        public string ConnectionString => $"127.0.0.1:{port}";

        public static async Task<RedisServerProcess> StartAsync()
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }
            var server = Process.Start(new ProcessStartInfo("redis-server",
                ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            }) ?? throw new InvalidOperationException("redis-server did not start");
            server.OutputDataReceived += (_, _) => { };
            server.BeginOutputReadLine();
            // Listening before the service starts, so its first connection succeeds rather than retrying.
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    return new RedisServerProcess(server, port);
                }
                catch (SocketException) when (attempt < 200)
                {
                    await Task.Delay(50);
                }
            }
        }

        public void Dispose()
        {
            server.Kill();
            server.WaitForExit();
            server.Dispose();
        }
    }
}
