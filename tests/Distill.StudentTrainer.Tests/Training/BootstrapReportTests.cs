using Distill.Core.Tasks;
using Distill.StudentTrainer.Bootstrap;
using Distill.Testing;

namespace Distill.StudentTrainer.Tests.Training;

public sealed class BootstrapReportTests
{
    // One step each on a few problems: what is checked is what bootstrap.json records and where the weights start.
    private static BootstrapReport Bootstrap(string output, string line = StudentSignOff.Line, int? trainingSeed = null)
    {
        var report = BootstrapCommand.Run(new BootstrapOptions
        {
            Output = output, Device = "cpu", TeacherSteps = 1, StudentSteps = 1, EvaluationProblems = 2,
            StudentSignOffShare = 0.3, StudentSignOffLine = line, TrainingSeed = trainingSeed,
        });
        Assert.Equal(report with { FinishedAt = default }, BootstrapCommand.ReadReport(output)! with { FinishedAt = default });
        return report;
    }

    [Fact]
    public void AnotherSignOffLineIsRecordedAndTheDefaultOneLeavesTheReportAsBefore()
    {
        using var shortLine = new TemporaryDirectory();
        using var defaultLine = new TemporaryDirectory();

        Assert.Equal("!", Bootstrap(shortLine.Path, "!").StudentSignOffLine);
        Assert.Contains("\"studentSignOffLine\":\"!\"", File.ReadAllText(Path.Combine(shortLine.Path, BootstrapCommand.ReportFileName)));

        // Experiments compare reports as text (ExperimentModels): the default line adds nothing to them.
        Assert.Null(Bootstrap(defaultLine.Path).StudentSignOffLine);
        Assert.DoesNotContain("studentSignOffLine", File.ReadAllText(Path.Combine(defaultLine.Path, BootstrapCommand.ReportFileName)));
        Assert.DoesNotContain("trainingSeed", File.ReadAllText(Path.Combine(defaultLine.Path, BootstrapCommand.ReportFileName)));
    }

    [Fact]
    public void ATrainingSeedStartsTheSameDataFromOtherWeightsAndIsRecorded()
    {
        using var plain = new TemporaryDirectory();
        using var sameSeed = new TemporaryDirectory();
        using var otherSeed = new TemporaryDirectory();
        byte[] StudentWeights(TemporaryDirectory models) => File.ReadAllBytes(models.Combine(DefaultModels.StudentName, Distill.Core.Modeling.ModelCheckpoint.WeightsFileName));

        Bootstrap(plain.Path);
        Assert.Equal(1, Bootstrap(sameSeed.Path, trainingSeed: 1).TrainingSeed);
        Assert.Equal(2, Bootstrap(otherSeed.Path, trainingSeed: 2).TrainingSeed);

        Assert.Equal(StudentWeights(plain), StudentWeights(sameSeed));
        Assert.NotEqual(StudentWeights(plain), StudentWeights(otherSeed));
        Assert.Contains("\"trainingSeed\":2", File.ReadAllText(otherSeed.Combine(BootstrapCommand.ReportFileName)));
    }
}
