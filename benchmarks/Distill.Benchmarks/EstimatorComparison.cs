using Distill.Core.Divergence;
using Distill.Core.Generation;
using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.Core.Tasks;
using Distill.Core.Tokenization;
using TorchSharp;

/// <summary>
/// How one checkpoint's KL and CSR change between the trainer's old estimator (k1 with the student's log-probs at
/// τ = 1 while it samples at τ) and the temperature-consistent ones (k1, k3, exact at τ). Same samples for every row.
/// </summary>
public static class EstimatorComparison
{
    public static async Task RunAsync(string models, int problems, int samplesPerProblem, double temperature, double threshold)
    {
        torch.manual_seed(0);
        var tokenizer = TokenizerLoader.Load(Path.Combine(models, "student"));
        var (_, student) = ModelCheckpoint.Load(Path.Combine(models, "student"), torch.CPU);
        var (_, teacher) = ModelCheckpoint.Load(Path.Combine(models, "teacher"), torch.CPU);
        student.eval();
        teacher.eval();
        int vocabulary = tokenizer.VocabularySize;
        var questions = new MathProblemGenerator().Generate(ProblemSplit.Test, seed: 20_240_601, count: problems);
        var prompts = questions.SelectMany(p => Enumerable.Repeat(tokenizer.Encode(PromptFormat.Render(p.Question)).ToArray(), samplesPerProblem)).ToArray();

        var sampling = new SamplingOptions { MaxNewTokens = 48, Temperature = (float)temperature, StopTokenIds = [tokenizer.EosTokenId], VocabularyLimit = vocabulary, Seed = 1 };
        var generator = new CompletionGenerator(student);
        var completions = prompts.Chunk(64).SelectMany((chunk, i) => generator.Generate(chunk, tokenizer.PadTokenId, sampling with { Seed = 1 + i })).ToArray();
        var items = prompts.Select((prompt, i) => new ScoringItem(prompt, completions[i].TokenIds)).ToArray();

        var all = Enumerable.Range(0, vocabulary).ToArray();
        var rows = new Dictionary<string, List<double>> { ["k1, student at τ = 1 (before)"] = [], ["k1 at τ"] = [], ["k3 at τ"] = [], ["exact at τ"] = [] };
        var teacherScorer = new ModelScorer(teacher);
        foreach (var batch in items.Chunk(64))
        {
            var teacherScores = await teacherScorer.ScoreAsync(batch, topK: vocabulary);
            var candidates = batch.Select(item => Enumerable.Repeat(all, item.CompletionTokenIds.Length).ToArray()).ToArray();
            using var noGrad = torch.no_grad();
            using var atOne = CompletionLogProbs.Compute(student, batch, SamplerPolicy.Of(1.0, vocabulary));
            using var atTau = CompletionLogProbs.Compute(student, batch, SamplerPolicy.Of(temperature, vocabulary), candidateIds: candidates);
            var one = CompletionCosts.PerItem(atOne, batch);
            var tau = CompletionCosts.PerItem(atTau, batch);
            for (var i = 0; i < batch.Length; i++)
            {
                var teacherLogProbs = teacherScores[i].LogProbs;
                rows["k1, student at τ = 1 (before)"].Add(TokenCosts.K1(one[i], teacherLogProbs).Sum());
                rows["k1 at τ"].Add(TokenCosts.K1(tau[i], teacherLogProbs).Sum());
                rows["k3 at τ"].Add(TokenCosts.K3(tau[i], teacherLogProbs).Sum());
                var teacherTop = teacherScores[i].TopK!.Select(position => position.OrderBy(c => c.TokenId).Select(c => c.LogProb).ToArray()).ToArray();
                rows["exact at τ"].Add(TokenCosts.TopKExact(atTau.CandidateLogProbs![i], teacherTop).Sum());
            }
        }

        Console.WriteLine($"{problems} generated test problems × {samplesPerProblem} samples at τ = {temperature} (the same samples in every row); d = {threshold}");
        Console.WriteLine("| estimator | mean C | std of C over samples | standard error of the mean | CSR at d |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, costs) in rows)
        {
            var mean = costs.Average();
            var std = Math.Sqrt(costs.Sum(c => (c - mean) * (c - mean)) / (costs.Count - 1));
            Console.WriteLine(FormattableString.Invariant(
                $"| {name} | {mean:0.000} | {std:0.000} | {std / Math.Sqrt(costs.Count):0.000} | {ConstraintSatisfactionRate.At(costs, threshold):P1} |"));
        }
    }
}
