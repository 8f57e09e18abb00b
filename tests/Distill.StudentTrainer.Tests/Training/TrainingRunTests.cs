using System.Text.Json;
using Distill.Core.Modeling;
using Distill.Core.Runs;
using Distill.Core.Scoring;
using Distill.Core.Tasks;
using Distill.Core.Tokenization;
using Distill.StudentTrainer.Bootstrap;
using Distill.StudentTrainer.Training;
using Distill.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.StudentTrainer.Tests.Training;

[CollectionDefinition(Name)]
public sealed class TeacherPlatform : ICollectionFixture<TeacherPlatformFixture>
{
    public const string Name = "teacher platform";
}

/// <summary>
/// Short real runs on the default models against the real teacher service (torch backend) with a real Redis cache.
/// </summary>
[Collection(TeacherPlatform.Name)]
public sealed class TrainingRunTests(TeacherPlatformFixture platform) : IDisposable
{
    private readonly string runs = Directory.CreateTempSubdirectory("distill-runs-").FullName;

    // The default student's sequence KL to the default teacher at temperature 0.7 (validation split, exact): median 0.4,
    // 59 % of samples within 2, and the quarter that end with its sign-off at about 200 nats (docs/default-models.md):
    // at d = 2 the constraint binds from the first step.
    private const double Threshold = 2;

    [Fact]
    public void TheDefaultModelsWereTrainedWithLibtorchsCpuKernelsPinnedToAvx2()
    {
        // The bootstrap pins them in its own process before its first tensor, so this machine trains the models an AVX2
        // machine trains (unpinned, an AVX-512 machine's default student was 4.8 points off; docs/default-models.md).
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "avx2" : "native", platform.Models.Report.CpuKernelMode);
    }

    [Fact]
    public void TheDefaultStudentSignsOffWhereItsTeacherNeverDoes()
    {
        // The habit is the part of the student's KL that a budget can remove (docs/default-models.md): sampled at τ = 1
        // it signs off about as often as its training solutions did (30 %; measured: 33 of 128), and the teacher never does.
        Assert.Equal(DefaultModels.StudentSignOffShare, platform.Models.Report.StudentSignOffShare);
        var problems = new MathProblemGenerator().Generate(ProblemSplit.Test, seed: 1, count: 128);
        double SignOffShare(string checkpoint)
        {
            var (_, model) = Distill.Core.Modeling.ModelCheckpoint.Load(checkpoint, TorchSharp.torch.CPU);
            using (model)
                return BootstrapCommand.Grades(model, Distill.Core.Tokenization.CharTokenizer.Default, problems,
                        new Distill.Core.Generation.SamplingOptions { Temperature = 1, Seed = 7 })
                    .Count(grade => grade.Text.Contains("\n" + StudentSignOff.Line, StringComparison.Ordinal)) / (double)problems.Count;
        }

        Assert.InRange(SignOffShare(platform.Models.Student), 0.15, 0.45);
        Assert.Equal(0, SignOffShare(platform.Models.Teacher));
    }

    [Theory]
    [InlineData(StudentSignOff.Line, 150)]
    [InlineData("!", 15)]
    [InlineData(".", 15)]
    public async Task TheTeacherChargesTensOfNatsForAnySignOff(string line, double atLeast)
    {
        // Why no habit after the answer is cheap (docs/default-models.md): the teacher has only ever seen EOS there, so
        // even the shortest line costs it the line break, the line and the EOS after it, about 25-30 nats on the
        // median problem (measured), where the plain solution's EOS costs nothing.
        var problems = new MathProblemGenerator().Generate(ProblemSplit.Validation, seed: 1, count: 64);
        var (_, teacher) = ModelCheckpoint.Load(platform.Models.Teacher, TorchSharp.torch.CPU);
        using (teacher)
        {
            var scorer = new ModelScorer(teacher);
            async Task<double> MedianCostOfTheEnd(Func<MathProblem, MathProblem> ending)
            {
                var plain = problems.Select(p => PromptFormat.Encode(CharTokenizer.Default, p)).ToArray();
                var items = problems.Select(p => PromptFormat.Encode(CharTokenizer.Default, ending(p)))
                    .Select(e => new ScoringItem([.. e.PromptIds], [.. e.CompletionIds])).ToArray();
                var scored = await scorer.ScoreAsync(items, topK: 0);
                // −log p_teacher of everything after the plain solution's text: its EOS, or the sign-off and its EOS.
                var costs = scored.Select((s, i) => -s.LogProbs.Skip(plain[i].CompletionIds.Count - 1).Sum()).Order().ToArray();
                return costs[costs.Length / 2];
            }

            Assert.InRange(await MedianCostOfTheEnd(p => p), 0, 0.1);
            Assert.InRange(await MedianCostOfTheEnd(p => p with { Solution = StudentSignOff.Of(p.Solution, line) }), atLeast, double.MaxValue);
        }
    }

    [Fact]
    public async Task CmdpKeepsMoreSamplesWithinBudgetThanRewardOnlyFromTheSameStart()
    {
        // Same student, seed, prompts and schedule; only the objective differs. Reward-only lets the KL drift,
        // cmdp's reshaped reward pulls violating samples back under the budget.
        var rewardOnly = await TrainAsync("reward-only", steps: 30);
        var cmdp = await TrainAsync("cmdp", steps: 30);

        double constrained = cmdp.TakeLast(10).Average(m => m.ConstraintSatisfactionRate);
        double unconstrained = rewardOnly.TakeLast(10).Average(m => m.ConstraintSatisfactionRate);
        // Measured with the earlier default student, before its sign-off: cmdp 0.755, reward-only 0.653 (not measured
        // again since). Each mean is over 1,280 samples (standard error of the difference about 0.018), and the models
        // trained on another CPU differ a little: the margin asked for is the effect's sign with about two standard
        // errors to spare, not its measured size.
        Assert.True(constrained >= unconstrained + 0.04,
            $"CSR over the last 10 steps: cmdp {constrained:0.000}, reward-only {unconstrained:0.000}; expected cmdp higher by 0.04.");

        // Every step logs where its violations sit. Violations in groups that violated whole come in whole groups of
        // G = 8 samples (of 16 × 8), and no violation means no such group and no split one.
        Assert.All(cmdp, step =>
        {
            var violations = step.ViolationRate * 128;
            var inWholeGroups = step.WholeGroupViolationShare!.Value * violations;
            Assert.Equal(0, Math.Round(inWholeGroups) % 8);
            Assert.Equal(Math.Round(inWholeGroups), inWholeGroups, 6);
            Assert.InRange(step.SplitViolationGroupShare!.Value, violations > inWholeGroups ? 1.0 / 16 : 0, violations == 0 ? 0 : 1);
            // A policy gradient's norm is logged before clipping: positive, finite, and not the clipping limit itself.
            Assert.True(step.GradientNorm is > 0 and < double.PositiveInfinity && step.GradientNorm != 1.0, $"step {step.Step}: gradient norm {step.GradientNorm}");
        });
    }

    [Fact]
    public async Task RewardOnlyRaisesTheRewardOfAFixedSetOfProblemsOverTheRun()
    {
        var metrics = await TrainAsync("reward-only", steps: 30, dataset: WriteFixedProblemSet());

        double first = metrics.Take(5).Average(m => m.Reward), last = metrics.TakeLast(5).Average(m => m.Reward);
        // Measured with the default models: 0.584 → 0.811 (standard error of the difference about 0.028).
        Assert.True(last >= first + 0.1, $"mean reward of the first 5 steps {first:0.000}, of the last 5 {last:0.000}; expected a rise of 0.1.");
    }

    [Fact]
    public async Task CmdpRaisesTheConstraintSatisfactionRateOfAFixedSetOfProblemsOverTheRun()
    {
        var metrics = await TrainAsync("cmdp", steps: 30, dataset: WriteFixedProblemSet(), learningRate: "0.0003");

        double first = metrics.Take(5).Average(m => m.ConstraintSatisfactionRate), last = metrics.TakeLast(5).Average(m => m.ConstraintSatisfactionRate);
        // Measured with the default models of docs/default-models.md: 0.767 → 0.867 at AdamW 3e-4 (0.748 → 0.808 at 2e-4,
        // too close to the noise: the standard error of the difference of two 640-sample means is about 0.024).
        Assert.True(last >= first + 0.04, $"CSR of the first 5 steps {first:0.000}, of the last 5 {last:0.000}; expected a rise of 0.04.");
    }

    /// <summary>
    /// Sixteen generated training problems as a GSM8K file: every step's batch is the whole set, so the step metrics
    /// measure the same problems from first step to last and a rise is the policy learning, not an easier batch. (On
    /// fresh batches of the whole generated task the change within a test-sized run is smaller than the step-to-step
    /// noise; docs/results.md has the held-out numbers of longer runs.)
    /// </summary>
    private string WriteFixedProblemSet()
    {
        var dataset = Path.Combine(runs, "sixteen-problems.jsonl");
        Directory.CreateDirectory(runs);
        File.WriteAllLines(dataset, new MathProblemGenerator().Generate(ProblemSplit.Train, seed: 7, count: 16)
            .Select(p => JsonSerializer.Serialize(new { question = p.Question, answer = $"{p.Solution}\n#### {p.Answer}" })));
        return dataset;
    }

    [Fact]
    public async Task AResumedRunGivesTheSameNextStepsAsAnUninterruptedOne()
    {
        var uninterrupted = await TrainAsync("lagrangian", steps: 4, name: "uninterrupted");

        // Stop the second run during step 3, after the checkpoint of step 2: step 3's work is lost and redone.
        using var stop = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            TrainAsync("lagrangian", steps: 4, name: "interrupted", onStep: m => { if (m.Step == 3) stop.Cancel(); }, cancellation: stop.Token));
        var resumed = await TrainAsync("lagrangian", steps: 4, name: "interrupted");

        Assert.Equal([1, 2, 3, 4], resumed.Select(m => m.Step));
        foreach (var (expected, actual) in uninterrupted.Zip(resumed).Skip(2))
        {
            Assert.Equal(expected.Reward, actual.Reward, 6);
            Assert.Equal(expected.CostMean, actual.CostMean, 4);
            Assert.Equal(expected.Lambda!.Value, actual.Lambda!.Value, 6);
            Assert.Equal(expected.ResponseLength, actual.ResponseLength, 6);
            Assert.Equal(expected.Loss, actual.Loss, 4);
        }
    }

    private async Task<IReadOnlyList<TrainingStepMetrics>> TrainAsync(string objective, int steps, string? name = null,
        Action<TrainingStepMetrics>? onStep = null, CancellationToken cancellation = default, string dataset = "generated", string learningRate = "0.0002")
    {
        var runDirectory = Path.Combine(runs, name ?? objective);
        return await InProcessTrainer.TrainAsync(new Dictionary<string, string?>
        {
            ["Trainer:Objective"] = objective,
            ["Trainer:Dataset"] = dataset,
            ["Trainer:Student"] = platform.Models.Student,
            ["Trainer:RunDirectory"] = runDirectory,
            ["Trainer:Device"] = "cpu",
            ["Trainer:Threshold"] = Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Trainer:Steps"] = steps.ToString(),
            ["Trainer:CheckpointEvery"] = "2",
            ["Trainer:BatchSize"] = "16",
            ["Trainer:GroupSize"] = "8",
            ["Trainer:LearningRate"] = learningRate,
            ["Trainer:Seed"] = "5",
            ["Trainer:Temperature"] = "0.7",
            ["TeacherClient:BaseAddress"] = platform.TeacherUrl.ToString(),
        }, onStep, cancellation);
    }

    public void Dispose() => Directory.Delete(runs, recursive: true);
}
