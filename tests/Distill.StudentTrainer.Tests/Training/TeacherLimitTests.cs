using Distill.StudentTrainer.Training;
using Distill.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.StudentTrainer.Tests.Training;

/// <summary>
/// The teacher's <c>maxTopK</c> (for a vLLM teacher its <c>--max-logprobs</c>) reaches the trainer through
/// <c>GET /v1/teacher</c>, so a larger <c>--top-k</c> is refused before the first step rather than at its scoring call.
/// The tiny checkpoint is both teacher and student (one tokenizer).
/// </summary>
public sealed class TeacherLimitTests : IDisposable
{
    private readonly string runs = Directory.CreateTempSubdirectory("distill-runs-").FullName;

    [Fact]
    public async Task ATopKAboveTheTeachersMaxTopKIsRefusedAtStartNamingTheFlag()
    {
        using var checkpoint = new TeacherCheckpoint();
        var teacherSettings = TeacherHost.Settings(checkpoint.Directory);
        teacherSettings["Teacher:Limits:MaxTopK"] = "4";
        // Not the whole 64-symbol distribution: the limit of 4 holds, as for a large vocabulary.
        teacherSettings["Teacher:Limits:FullDistributionMaxVocabulary"] = "0";
        await using var teacher = TeacherHost.Start(teacherSettings);
        await teacher.WaitUntilReadyAsync();
        var runDirectory = Path.Combine(runs, "top-k");
        var settings = new Dictionary<string, string?>
        {
            ["Trainer:Objective"] = "cmdp",
            ["Trainer:Dataset"] = "generated",
            ["Trainer:Student"] = checkpoint.Directory,
            ["Trainer:RunDirectory"] = runDirectory,
            ["Trainer:Device"] = "cpu",
            ["Trainer:Threshold"] = "6",
            ["Trainer:Steps"] = "1",
            ["Trainer:CostEstimator"] = "top-k-exact",
            ["Trainer:TopK"] = "5",
            ["TeacherClient:BaseAddress"] = teacher.Address.ToString(),
        };

        var refusal = await Assert.ThrowsAsync<TrainingStartupException>(() => InProcessTrainer.TrainAsync(settings));

        Assert.Contains("--top-k 5", refusal.Message);
        Assert.Contains("at most 4", refusal.Message);
        Assert.False(Directory.Exists(runDirectory));
    }

    public void Dispose() => Directory.Delete(runs, recursive: true);
}
