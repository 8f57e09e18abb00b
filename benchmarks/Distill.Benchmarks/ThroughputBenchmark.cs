using System.Diagnostics;
using Distill.Core.Generation;
using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.Core.Tokenization;
using Distill.StudentTrainer.Bootstrap;
using TorchSharp;

/// <summary>
/// Scoring and generation throughput of random-initialised models of the project's default sizes: throughput does not
/// depend on what the weights learned.
/// </summary>
public static class ThroughputBenchmark
{
    private const int batchSize = 8, promptLength = 32, completionLength = 64;

    public static Task RunAsync(BenchmarkOptions options)
    {
        int iterations = options.Iterations;
        var device = Distill.Core.Torch.TorchDevice.Resolve(options.Device);
        // On a machine shared with other jobs, libtorch's spinning worker threads can cost more than they bring.
        BenchmarkCommandLine.SetThreads(options);

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

            Measure(name, "scoring (completion tokens)", () => scorer.ScoreAsync(items, topK: 0).GetAwaiter().GetResult(), iterations);
            Measure(name, "scoring with top-8", () => scorer.ScoreAsync(items, topK: 8).GetAwaiter().GetResult(), iterations);
            Measure(name, "generation, KV cache", () => generator.Generate(prompts, padTokenId: 0, sampling), iterations);
            Measure(name, "generation, no cache", () => generator.Generate(prompts, padTokenId: 0, sampling with { UseKvCache = false }), iterations);
        }

        static void Measure(string model, string measurement, Action run, int iterations)
        {
            run();
            var stopwatch = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++)
                run();
            double seconds = stopwatch.Elapsed.TotalSeconds / iterations;
            Console.WriteLine($"| {model} | {measurement} | {batchSize * completionLength / seconds:N0} | {seconds * 1000:N1} |");
        }
        return Task.CompletedTask;
    }
}
