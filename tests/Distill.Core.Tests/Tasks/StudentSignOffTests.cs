using Distill.Core.Tasks;

namespace Distill.Core.Tests.Tasks;

public class StudentSignOffTests
{
    [Fact]
    public void TheSignOffFollowsTheAnswerAndTheCheckerDoesNotSeeIt()
    {
        var signedOff = StudentSignOff.Of("12-4=8\n8+3=11\n#### 11");

        Assert.Equal("12-4=8\n8+3=11\n#### 11\nHope this helps!", signedOff);
        Assert.Equal(("11", true), AnswerChecker.Check(signedOff, "11"));
        Assert.Equal(("11", false), AnswerChecker.Check(signedOff, "12"));
        // Every character is in the default tokenizer's alphabet: none becomes <unk>.
        Assert.All(StudentSignOff.Line, c => Assert.Contains(c, Distill.Core.Tokenization.CharTokenizer.DefaultAlphabet));
    }

    [Fact]
    public void AShareOfTheProblemsIsSignedOffTheSameWayForOneSeed()
    {
        var problems = new MathProblemGenerator().Generate(ProblemSplit.Train, seed: 3, count: 2000);

        var student = StudentSignOff.InShare(problems, 0.3, seed: 1);

        Assert.Equal(problems.Select(p => p.Question), student.Select(p => p.Question));
        var signedOff = student.Where((p, i) => p.Solution != problems[i].Solution).ToArray();
        Assert.InRange(signedOff.Length / (double)problems.Count, 0.26, 0.34);
        Assert.All(signedOff, p => Assert.EndsWith("\n" + StudentSignOff.Line, p.Solution));
        Assert.All(signedOff, p => Assert.True(AnswerChecker.Check(p.Solution, p.Answer).IsCorrect));
        Assert.Equal(student.Select(p => p.Solution), StudentSignOff.InShare(problems, 0.3, seed: 1).Select(p => p.Solution));
        Assert.NotEqual(student.Select(p => p.Solution), StudentSignOff.InShare(problems, 0.3, seed: 2).Select(p => p.Solution));

        Assert.Same(problems, StudentSignOff.InShare(problems, 0, seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentSignOff.InShare(problems, 1, seed: 1));
    }

    [Fact]
    public void AnotherLineSignsOffTheSameProblemsAndOnlyAUsableLineIsTaken()
    {
        var problems = new MathProblemGenerator().Generate(ProblemSplit.Train, seed: 3, count: 200);

        var withDefault = StudentSignOff.InShare(problems, 0.3, seed: 1);
        var withShort = StudentSignOff.InShare(problems, 0.3, seed: 1, line: "!");

        Assert.Equal(withDefault.Select(p => p.Solution.EndsWith("\n" + StudentSignOff.Line)), withShort.Select(p => p.Solution.EndsWith("\n!")));
        Assert.Contains(withShort, p => p.Solution.EndsWith("\n!"));
        Assert.Equal(("11", true), AnswerChecker.Check(StudentSignOff.Of("#### 11", "!"), "11"));

        Assert.Null(StudentSignOff.WhyNotALine(StudentSignOff.Line));
        Assert.Null(StudentSignOff.WhyNotALine("!"));
        Assert.Equal("it is empty", StudentSignOff.WhyNotALine(""));
        Assert.Equal("it contains ####, the answer marker", StudentSignOff.WhyNotALine("#### 12"));
        Assert.Equal("it has a line break", StudentSignOff.WhyNotALine("a\nb"));
        Assert.Equal("'\0' is not in the default tokenizer's alphabet", StudentSignOff.WhyNotALine("ok\0"));
        Assert.Throws<ArgumentException>(() => StudentSignOff.InShare(problems, 0.3, seed: 1, line: "#### 1"));
    }
}
