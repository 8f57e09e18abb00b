using Distill.Core.Divergence;
using Distill.Core.Generation;
using Distill.Core.Scoring;

namespace Distill.Core.Tests.Scoring;

/// <summary>The policy that is trained, constrained and evaluated is the sampler: logits/τ over the tokenizer's ids.</summary>
public class SamplerPolicyTests
{
    private static readonly int[] Prompt = [1, 5, 9];

    [Fact]
    public void IdsBeyondTheVocabularyLimitAreNeverSampled()
    {
        using var model = TinyModels.Create();
        var generator = new CompletionGenerator(model);
        var prompts = Enumerable.Repeat(Prompt, 64).ToArray();
        var options = new SamplingOptions { MaxNewTokens = 8, Temperature = 3f, Seed = 7 };

        // Without the limit a hot sampler over the 32 ids of the tiny config does emit ids ≥ 20 …
        Assert.Contains(generator.Generate(prompts, 0, options).SelectMany(c => c.TokenIds), id => id >= 20);
        // … with a tokenizer of 20 real tokens it never does, and the log-probs are of the 20-way distribution.
        var limited = generator.Generate(prompts, 0, options with { VocabularyLimit = 20 });
        Assert.All(limited.SelectMany(c => c.TokenIds), id => Assert.InRange(id, 0, 19));
        var items = prompts.Select((prompt, i) => new ScoringItem(prompt, limited[i].TokenIds)).ToArray();
        using var scored = CompletionLogProbs.Compute(model, items, new SamplerPolicy(3.0, 20));
        var perItem = CompletionCosts.PerItem(scored, items);
        for (var i = 0; i < 4; i++)
            Assert.Equal(limited[i].LogProbs, perItem[i], (a, b) => Math.Abs(a - b) < 1e-4);
    }

    [Fact]
    public async Task TheK1SumAtTheSamplingTemperatureEstimatesTheSamplersExactKl()
    {
        const float temperature = 0.5f;
        using var student = TinyModels.Create(TinyModels.Config() with { VocabSize = 64 }, seed: 11);
        using var teacher = TinyModels.Create(TinyModels.Config() with { VocabSize = 64 }, seed: 12);
        var policy = new SamplerPolicy(temperature);

        // Exact KL of two-token completions: KL(p0‖q0) + Σ_y1 p0(y1)·KL(p1(·|y1)‖q1(·|y1)), every distribution in full.
        var all = Enumerable.Range(0, 64).ToArray();
        var items = all.Select(first => new ScoringItem(Prompt, [first, 0])).ToArray();
        int[][][] candidates = items.Select(_ => new[] { all, all }).ToArray();
        using var p = CompletionLogProbs.Compute(student, items, policy, candidateIds: candidates);
        using var q = CompletionLogProbs.Compute(teacher, items, SamplerPolicy.Untempered, candidateIds: candidates);
        double Kl(float[] logP, float[] logQ) => logP.Select((lp, v) => Math.Exp(lp) * (lp - logQ[v])).Sum();
        var p0 = p.CandidateLogProbs![0][0];
        var exact = Kl(p0, q.CandidateLogProbs![0][0])
                    + all.Sum(first => Math.Exp(p0[first]) * Kl(p.CandidateLogProbs[first][1], q.CandidateLogProbs[first][1]));

        // Monte Carlo: sample at τ, k1 with the sampler's log-probs against the teacher's at τ = 1.
        const int samples = 4000;
        var completions = new CompletionGenerator(student).Generate(Enumerable.Repeat(Prompt, samples).ToArray(), 0,
            new SamplingOptions { MaxNewTokens = 2, Temperature = temperature, Seed = 3 });
        var sampled = completions.Select(c => new ScoringItem(Prompt, c.TokenIds)).ToArray();
        var teacherScores = await new ModelScorer(teacher).ScoreAsync(sampled, topK: 0);
        using var untempered = CompletionLogProbs.Compute(student, sampled, SamplerPolicy.Untempered);
        var atOne = CompletionCosts.PerItem(untempered, sampled);
        var k1 = completions.Select((c, i) => TokenCosts.K1(c.LogProbs, teacherScores[i].LogProbs).Sum()).ToArray();
        var k1AtOne = completions.Select((c, i) => TokenCosts.K1(atOne[i], teacherScores[i].LogProbs).Sum()).ToArray();

        var (mean, error) = MeanAndStandardError(k1);
        Assert.True(Math.Abs(mean - exact) < 4 * error, $"k1 mean {mean:0.0000} ± {error:0.0000} vs the sampler's exact KL {exact:0.0000}");
        // The student's side at τ = 1 (what the trainer did before) is not an estimate of the sampler's KL.
        var (meanAtOne, errorAtOne) = MeanAndStandardError(k1AtOne);
        Assert.True(Math.Abs(meanAtOne - exact) > 4 * errorAtOne, $"k1 at τ = 1: {meanAtOne:0.0000} ± {errorAtOne:0.0000} vs {exact:0.0000}");
    }

    private static (double Mean, double StandardError) MeanAndStandardError(double[] values)
    {
        var mean = values.Average();
        var variance = values.Sum(value => (value - mean) * (value - mean)) / (values.Length - 1);
        return (mean, Math.Sqrt(variance / values.Length));
    }
}
