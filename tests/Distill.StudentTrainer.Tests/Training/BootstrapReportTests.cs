using Distill.Core.Tasks;
using Distill.StudentTrainer.Bootstrap;
using Distill.Testing;

namespace Distill.StudentTrainer.Tests.Training;

public sealed class BootstrapReportTests
{
    [Fact]
    public void AnotherSignOffLineIsRecordedAndTheDefaultOneLeavesTheReportAsBefore()
    {
        // One step each on a few problems: what is checked is what bootstrap.json records, not the models.
        BootstrapReport Bootstrap(string output, string line)
        {
            var report = BootstrapCommand.Run(new BootstrapOptions
            {
                Output = output, Device = "cpu", TeacherSteps = 1, StudentSteps = 1, EvaluationProblems = 2,
                StudentSignOffShare = 0.3, StudentSignOffLine = line,
            });
            Assert.Equal(report.StudentSignOffLine, BootstrapCommand.ReadReport(output)!.StudentSignOffLine);
            return report;
        }
        using var shortLine = new TemporaryDirectory();
        using var defaultLine = new TemporaryDirectory();

        Assert.Equal("!", Bootstrap(shortLine.Path, "!").StudentSignOffLine);
        Assert.Contains("\"studentSignOffLine\":\"!\"", File.ReadAllText(Path.Combine(shortLine.Path, BootstrapCommand.ReportFileName)));

        // Experiments compare reports as text (ExperimentModels): the default line adds nothing to them.
        Assert.Null(Bootstrap(defaultLine.Path, StudentSignOff.Line).StudentSignOffLine);
        Assert.DoesNotContain("studentSignOffLine", File.ReadAllText(Path.Combine(defaultLine.Path, BootstrapCommand.ReportFileName)));
    }
}
