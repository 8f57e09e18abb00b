using System.Diagnostics;
using Distill.Core.Generation;
using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.Core.Tokenization;
using TorchSharp;

/// <summary>
/// The rows of docs/benchmarks.md's speed table for issue #17: decode step time against the memory-bandwidth bound,
/// and scoring throughput in float32 and bfloat16 with bfloat16's log-prob error, at the 25M shape and at the default
/// models' shapes. Random weights: speed does not depend on what the weights learned (the error does a little; the
/// trained models' error is measured by the teacher-dtype row of the estimators command).
/// </summary>
public static class DecodeBenchmark
{
    /// <summary>The 25M-parameter shape of issue #17 (hidden 512, 8 layers, 8 heads, 4 key/value heads) on the char vocabulary.</summary>
    public static LlamaConfig TwentyFiveMillion => Distill.StudentTrainer.Bootstrap.DefaultModels.Teacher(CharTokenizer.Default).Config with
    {
        HiddenSize = 512, NumHiddenLayers = 8, NumAttentionHeads = 8, NumKeyValueHeads = 4, HeadDim = 64, IntermediateSize = 1536,
        MaxPositionEmbeddings = 512,
    };

    public static async Task RunAsync(int iterations, double bandwidthGigabytesPerSecond)
    {
        const int batch = 8, promptLength = 32, newTokens = 64;
        var shapes = new[]
        {
            ("25M shape", TwentyFiveMillion),
            ("default teacher", Distill.StudentTrainer.Bootstrap.DefaultModels.Teacher(CharTokenizer.Default).Config),
            ("default student", Distill.StudentTrainer.Bootstrap.DefaultModels.Student(CharTokenizer.Default).Config),
        };
        Console.WriteLine($"torch threads {torch.get_num_threads()}; batch {batch}, prompt {promptLength}, {newTokens} new tokens; " +
            $"{iterations} timed runs after 1 warm-up; bandwidth bound at {bandwidthGigabytesPerSecond} GB/s");
        Console.WriteLine("| shape | parameters | measurement | measured | bound | ratio |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|");
        foreach (var (name, config) in shapes)
        {
            torch.manual_seed(0);
            using var model = new LlamaForCausalLM(config);
            model.eval();
            long parameters = model.parameters().Sum(p => p.numel());
            var random = new Random(0);
            var prompts = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, promptLength).Select(_ => 3 + random.Next(config.VocabSize - 3)).ToArray()).ToArray();
            var generator = new CompletionGenerator(model);
            var sampling = new SamplingOptions { MaxNewTokens = newTokens, Temperature = 1, Seed = 1 };

            // Decode: the whole generation minus the prompt's forward, per new token.
            var prefill = Time(iterations, () => generator.Generate(prompts, 0, sampling with { MaxNewTokens = 1 }));
            var whole = Time(iterations, () => generator.Generate(prompts, 0, sampling));
            var decodeMs = (whole - prefill) / (newTokens - 1) * 1000;
            var boundMs = parameters * 4 / (bandwidthGigabytesPerSecond * 1e9) * 1000;
            Console.WriteLine(FormattableString.Invariant(
                $"| {name} | {parameters / 1e6:0.0}M | decode step, batch {batch}, KV cache (ms) | {decodeMs:0.00} | {boundMs:0.00} (fp32 weights read once) | {boundMs / decodeMs:P0} |"));

            var items = prompts.Select(prompt => new ScoringItem(prompt, Enumerable.Range(0, newTokens).Select(_ => 3 + random.Next(config.VocabSize - 3)).ToArray())).ToArray();
            var fp32 = await ScoreAsync(model, items, iterations);
            using var half = new LlamaForCausalLM(config, dtype: torch.ScalarType.BFloat16);
            using (torch.no_grad())
                foreach (var (target, source) in half.parameters().Zip(model.parameters()))
                    target.copy_(source);
            half.eval();
            var bf16 = await ScoreAsync(half, items, iterations);
            var tokenError = fp32.LogProbs.Zip(bf16.LogProbs).SelectMany(pair => pair.First.Zip(pair.Second, (a, b) => Math.Abs(a - b))).Max();
            var sequenceError = fp32.LogProbs.Zip(bf16.LogProbs).Select(pair => Math.Abs(pair.First.Sum() - pair.Second.Sum())).Max();
            Console.WriteLine(FormattableString.Invariant(
                $"| {name} | {parameters / 1e6:0.0}M | scoring, float32 (tokens/s) | {fp32.TokensPerSecond:N0} | – | – |"));
            Console.WriteLine(FormattableString.Invariant(
                $"| {name} | {parameters / 1e6:0.0}M | scoring, bfloat16 (tokens/s; max log-prob error per token / per sequence) | {bf16.TokensPerSecond:N0} ({tokenError:0.000} / {sequenceError:0.000}) | – | {bf16.TokensPerSecond / fp32.TokensPerSecond:0.00}× fp32 |"));
        }
    }

    private static async Task<(float[][] LogProbs, double TokensPerSecond)> ScoreAsync(LlamaForCausalLM model, ScoringItem[] items, int iterations)
    {
        var scorer = new ModelScorer(model);
        var result = await scorer.ScoreAsync(items, topK: 0);
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(2))
            await scorer.ScoreAsync(items, topK: 0);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
            await scorer.ScoreAsync(items, topK: 0);
        var seconds = clock.Elapsed.TotalSeconds / iterations;
        return (result.Select(r => r.LogProbs).ToArray(), items.Sum(item => item.CompletionTokenIds.Length) / seconds);
    }

    /// <summary>Runs for at least two seconds untimed first (allocator, JIT, libtorch's first-use costs), then times <paramref name="iterations"/> runs.</summary>
    private static double Time(int iterations, Action run)
    {
        var warmUp = Stopwatch.StartNew();
        do run(); while (warmUp.Elapsed < TimeSpan.FromSeconds(2));
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
            run();
        return clock.Elapsed.TotalSeconds / iterations;
    }
}
