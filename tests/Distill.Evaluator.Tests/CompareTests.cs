using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Reports;
using Distill.Evaluator.Runs;

namespace Distill.Evaluator.Tests;

public class CompareTests
{
    [Fact]
    public void OneRowPerRunFromItsLatestSuccessfulEvaluation()
    {
        using var directory = new TemporaryDirectory();
        var cmdp = TestRuns.CreateRun(directory.Combine("cmdp"), "cmdp-d2", "cmdp", threshold: 2.0);
        TestRuns.StoreEvaluation(cmdp, TestRuns.Evaluation("cmdp-d2", 50, accuracy: 0.40, satisfaction: 0.90, costMean: 1.2));
        TestRuns.StoreEvaluation(cmdp, TestRuns.Evaluation("cmdp-d2", 100, accuracy: 0.625, satisfaction: 0.95, costMean: 1.1));
        EvaluationStore.WriteFailure(cmdp.EvaluationPath(150), new EvaluationFailure("cmdp-d2", 150, "x", "torn", DateTimeOffset.UnixEpoch));
        var grpo = TestRuns.CreateRun(directory.Combine("grpo"), "grpo", "reward-only", threshold: 2.0);
        TestRuns.StoreEvaluation(grpo, TestRuns.Evaluation("grpo", 100, accuracy: 0.70, satisfaction: 0.30, costMean: 7.25));

        var comparison = RunComparison.Load([cmdp.Path, grpo.Path]);

        Assert.Empty(comparison.Errors);
        Assert.Equal(
            [
                ["cmdp-d2", "cmdp", "2", "100", "62.5 %", "57.5 %", "95.0 %", "1.1", "42.5"],
                ["grpo", "reward-only", "2", "100", "70.0 %", "65.0 %", "30.0 %", "7.25", "42.5"],
            ],
            comparison.Cells());
        var markdown = comparison.ToMarkdown();
        Assert.StartsWith("| run | objective | threshold d | step | accuracy | pass@1 | CSR at d | mean KL | mean tokens |", markdown);
        Assert.Contains("| grpo | reward-only | 2 | 100 | 70.0 % | 65.0 % | 30.0 % | 7.25 | 42.5 |", markdown);
    }

    [Fact]
    public void ARunThatCannotBeComparedIsAnErrorAndTheOthersStillCompare()
    {
        using var directory = new TemporaryDirectory();
        var good = TestRuns.CreateRun(directory.Combine("good"), "good");
        TestRuns.StoreEvaluation(good, TestRuns.Evaluation("good", 10, 0.5, 0.8, 1.0));
        var corrupt = TestRuns.CreateRun(directory.Combine("corrupt"), "corrupt");
        Directory.CreateDirectory(corrupt.EvaluationPath(10));
        File.WriteAllText(Path.Combine(corrupt.EvaluationPath(10), EvaluationStore.EvaluationFileName), "{\"runId\": \"corr");
        var unevaluated = TestRuns.CreateRun(directory.Combine("unevaluated"), "unevaluated");

        var comparison = RunComparison.Load([good.Path, corrupt.Path, unevaluated.Path, directory.Combine("missing")]);

        Assert.Equal("good", Assert.Single(comparison.Rows).RunId);
        Assert.Equal(3, comparison.Errors.Count);
        Assert.Contains("no successful evaluation", comparison.Errors[0].Error);
        Assert.Contains("no successful evaluation", comparison.Errors[1].Error);
        Assert.Contains("no such run directory", comparison.Errors[2].Error);

        var output = directory.Combine("comparison");
        comparison.Write(output);
        Assert.Contains("Runs left out:", File.ReadAllText(Path.Combine(output, RunComparison.MarkdownFileName)));
        Assert.True(new FileInfo(Path.Combine(output, RunComparison.ParetoFileName)).Length > 10_000);
        Assert.Contains("\"rows\"", File.ReadAllText(Path.Combine(output, RunComparison.JsonFileName)));
    }
}
