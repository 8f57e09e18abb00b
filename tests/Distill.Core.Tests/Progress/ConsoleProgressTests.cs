using Distill.Core.Progress;

namespace Distill.Core.Tests.Progress;

public class ConsoleProgressTests
{
    [Fact]
    public void RedirectedOutputGetsPlainLinesWithTheStepTheRateAndTheTimeLeft()
    {
        var output = new StringWriter();
        var steps = new ConsoleProgress.PlainLines("Experiment", 3, "runs", output);

        steps.Advance(status: "cmdp-d8-s1");
        steps.WriteLine("a result");
        steps.Advance();
        steps.Advance();

        var lines = output.ToString().ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^Experiment: step 1/3, [0-9.]+ runs/(s|min), about .+ left: cmdp-d8-s1$", lines[0]);
        Assert.Equal("a result", lines[1]);
        Assert.StartsWith("Experiment: step 3/3, ", lines[3]);
        Assert.DoesNotContain("left", lines[3]);
    }

    [Fact]
    public void ManyStepsWriteAboutTwentyLinesAndTheLast()
    {
        var output = new StringWriter();
        var steps = new ConsoleProgress.PlainLines("Bootstrap", 1001, "steps", output);
        for (int i = 0; i < 1001; i++) steps.Advance();

        var lines = output.ToString().ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.InRange(lines.Length, 20, 22);
        Assert.StartsWith("Bootstrap: step 1001/1001", lines[^1]);
    }

    [Theory]
    [InlineData(42, "42 s")]
    [InlineData(125, "2 min 5 s")]
    [InlineData(7300, "2 h 1 min")]
    public void DurationsReadAsPeopleSayThem(double seconds, string expected) => Assert.Equal(expected, ConsoleProgress.Duration(seconds));
}
