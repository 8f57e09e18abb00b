using Distill.Core.Runs;
using Distill.StudentTrainer.Training;
using Distill.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.StudentTrainer.Tests.Training;

/// <summary>
/// A student and a teacher that share a tokenizer (the 64-symbol char tokenizer) but whose configs pad the vocabulary
/// differently, as Qwen2.5's do (151,936 rows for 1.5B, 152,064 for 7B, 151,665 real tokens): the student never samples
/// an id its tokenizer lacks, and teacher candidates beyond the tokenizer fold into the rest bucket.
/// </summary>
public sealed class PaddedVocabularyTests : IDisposable
{
    private readonly string runs = Directory.CreateTempSubdirectory("distill-padded-").FullName;

    [Theory]
    [InlineData("exact", 0)]
    [InlineData("top-k-exact", 20)]
    [InlineData("k1", 0)]
    public async Task AStudentAndATeacherWithDifferentlyPaddedVocabulariesTrain(string estimator, int topK)
    {
        using var teacher = new TeacherCheckpoint(seed: 7, maxContext: 256, vocabularySize: 80);
        using var student = new TeacherCheckpoint(seed: 8, maxContext: 256, vocabularySize: 70);
        await using var host = TeacherHost.Start(TeacherHost.Settings(teacher.Directory));
        await host.WaitUntilReadyAsync();

        var runDirectory = Path.Combine(runs, estimator);
        var metrics = await InProcessTrainer.TrainAsync(new Dictionary<string, string?>
        {
            ["Trainer:Objective"] = "cmdp",
            ["Trainer:Student"] = student.Directory,
            ["Trainer:RunDirectory"] = runDirectory,
            ["Trainer:Device"] = "cpu",
            ["Trainer:Threshold"] = "20",
            ["Trainer:Steps"] = "2",
            ["Trainer:BatchSize"] = "4",
            ["Trainer:GroupSize"] = "4",
            // A hot sampler: over many tokens a random student would surely reach its padded ids 64…69 if they were allowed.
            ["Trainer:Temperature"] = "2.0",
            ["Trainer:MaxNewTokens"] = "24",
            ["Trainer:CostEstimator"] = estimator,
            ["Trainer:TopK"] = topK == 0 ? "20" : topK.ToString(),
            ["TeacherClient:BaseAddress"] = host.Address.ToString(),
        });

        Assert.Equal([1, 2], metrics.Select(m => m.Step));
        Assert.All(metrics, m => Assert.True(double.IsFinite(m.CostMean) && double.IsFinite(m.Loss), $"step {m.Step}: C {m.CostMean}, loss {m.Loss}"));
        // The exact estimators are KLs (of coarsened distributions): never negative.
        if (estimator != "k1")
            Assert.All(metrics, m => Assert.True(m.CostMean >= 0, $"step {m.Step}: mean C {m.CostMean}"));
    }

    public void Dispose() => Directory.Delete(runs, recursive: true);
}
