using System.Diagnostics;
using Distill.Core.Generation;
using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.Core.Tokenization;
using Distill.StudentTrainer.Bootstrap;
using TorchSharp;

// Usage: dotnet run -c Release --project benchmarks/Distill.Benchmarks -- [iterations=3] [device=cpu] [torch threads]
//        dotnet run -c Release --project benchmarks/Distill.Benchmarks -- teacher-service [rounds=3] [requests per round=32] [torch threads]
//        dotnet run -c Release --project benchmarks/Distill.Benchmarks -- trainer [models=data/models] [steps=20]
//        dotnet run -c Release --project benchmarks/Distill.Benchmarks -- decode [iterations=3] [bandwidth GB/s=65] [torch threads]
//        dotnet run -c Release --project benchmarks/Distill.Benchmarks -- estimators [models=data/models] [problems=200] [samples=8] [τ=0.7] [d=12]
// Random-initialised models of the project's default sizes; prints one markdown table row per measurement.
if (args.Length > 0 && args[0] == "trainer")
{
    await TrainerBenchmark.RunAsync(args.Length > 1 ? args[1] : "data/models", args.Length > 2 ? int.Parse(args[2]) : 20);
    return;
}
if (args.Length > 0 && args[0] == "decode")
{
    if (args.Length > 3)
        torch.set_num_threads(int.Parse(args[3]));
    await DecodeBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 3,
        args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 65);
    return;
}
if (args.Length > 0 && args[0] == "estimators")
{
    string Arg(int i, string fallback) => args.Length > i ? args[i] : fallback;
    var invariant = System.Globalization.CultureInfo.InvariantCulture;
    await EstimatorComparison.RunAsync(Arg(1, "data/models"), int.Parse(Arg(2, "200")), int.Parse(Arg(3, "8")),
        double.Parse(Arg(4, "0.7"), invariant), double.Parse(Arg(5, "12"), invariant));
    return;
}
if (args.Length > 0 && args[0] == "teacher-service")
{
    if (args.Length > 3)
        torch.set_num_threads(int.Parse(args[3]));
    await TeacherServiceBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 3, args.Length > 2 ? int.Parse(args[2]) : 32);
    return;
}

int iterations = args.Length > 0 ? int.Parse(args[0]) : 3;
var device = Distill.Core.Torch.TorchDevice.Resolve(args.Length > 1 ? args[1] : "cpu");
// On a machine shared with other jobs, libtorch's spinning worker threads can cost more than they bring.
if (args.Length > 2)
    torch.set_num_threads(int.Parse(args[2]));
const int batchSize = 8, promptLength = 32, completionLength = 64;

// The architectures of the default teacher and student, random-initialised: throughput does not depend on what the
// weights learned.
var teacher = DefaultModels.Teacher(CharTokenizer.Default).Config;
var student = DefaultModels.Student(CharTokenizer.Default).Config;

Console.WriteLine($"device {device.type}, torch threads {torch.get_num_threads()}, batch {batchSize}, prompt {promptLength}, " +
    $"completion {completionLength}, {iterations} timed iterations after 1 warm-up");
Console.WriteLine("| model | measurement | tokens/s | ms per batch |");
Console.WriteLine("|---|---|---:|---:|");
foreach (var (name, config) in new[] { ("teacher", teacher), ("student", student) })
{
    torch.manual_seed(0);
    using var model = new LlamaForCausalLM(config, device);
    model.eval();
    var random = new Random(0);
    var prompts = Enumerable.Range(0, batchSize).Select(_ => Enumerable.Range(0, promptLength).Select(_ => random.Next(config.VocabSize)).ToArray()).ToArray();
    var items = prompts.Select(prompt => new ScoringItem(prompt, Enumerable.Range(0, completionLength).Select(_ => random.Next(config.VocabSize)).ToArray())).ToArray();
    var scorer = new ModelScorer(model);
    var generator = new CompletionGenerator(model);
    var sampling = new SamplingOptions { MaxNewTokens = completionLength, Temperature = 1, Seed = 1 };

    Measure(name, "scoring (completion tokens)", () => scorer.ScoreAsync(items, topK: 0).GetAwaiter().GetResult());
    Measure(name, "scoring with top-8", () => scorer.ScoreAsync(items, topK: 8).GetAwaiter().GetResult());
    Measure(name, "generation, KV cache", () => generator.Generate(prompts, padTokenId: 0, sampling));
    Measure(name, "generation, no cache", () => generator.Generate(prompts, padTokenId: 0, sampling with { UseKvCache = false }));
}

void Measure(string model, string measurement, Action run)
{
    run();
    var stopwatch = Stopwatch.StartNew();
    for (int i = 0; i < iterations; i++)
        run();
    double seconds = stopwatch.Elapsed.TotalSeconds / iterations;
    Console.WriteLine($"| {model} | {measurement} | {batchSize * completionLength / seconds:N0} | {seconds * 1000:N1} |");
}
