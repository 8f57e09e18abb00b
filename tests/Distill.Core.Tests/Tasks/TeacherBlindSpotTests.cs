using Distill.Core.Tasks;

namespace Distill.Core.Tests.Tasks;

public class TeacherBlindSpotTests
{
    private static readonly IReadOnlyList<MathProblem> Problems = new MathProblemGenerator().Generate(ProblemSplit.Train, seed: 3, count: 2000);

    [Fact]
    public void AMisreadStepIsAddedAndTheLaterStepsCarryOnFromTheWrongTotal()
    {
        var problem = new MathProblem("p", "Sam has 12 pens. Sam loses 4. Sam buys 3 more. How many pens does Sam have now?",
            "12-4=8\n8+3=11\n#### 11", "11");

        Assert.True(TeacherBlindSpot.Default.Covers(problem));
        Assert.Equal("12+4=16\n16+3=19\n#### 19", TeacherBlindSpot.Default.MisreadSolution(problem));
    }

    [Fact]
    public void OnlyTheFamilysStepsChangeAndTheFamilyIsAboutAQuarterOfTheDefaultTask()
    {
        var family = Problems.Where(TeacherBlindSpot.Default.Covers).ToArray();
        var share = family.Length / (double)Problems.Count;
        Assert.InRange(share, 0.15, 0.35);

        foreach (var problem in Problems.Except(family))
            Assert.Equal(problem.Solution, TeacherBlindSpot.Default.MisreadSolution(problem));

        foreach (var problem in family)
        {
            var misread = TeacherBlindSpot.Default.MisreadSolution(problem);
            Assert.NotEqual(problem.Solution, misread);
            // The misread answer is always wrong: each misread step adds twice its operand to the true total.
            Assert.NotEqual($"#### {problem.Answer}", misread.Split('\n')[^1]);
            Assert.False(AnswerChecker.Check(misread, problem.Answer).IsCorrect);
        }
    }

    [Fact]
    public void TwoVerbsMisreadBothFamiliesAndCoverTheirUnion()
    {
        var twoVerbs = new TeacherBlindSpot { Verb = "loses,sells" };
        twoVerbs.Validate();
        var problem = new MathProblem("p", "Sam has 12 pens. Sam sells 4. Sam loses 3. How many pens does Sam have now?",
            "12-4=8\n8-3=5\n#### 5", "5");
        Assert.Equal("12+4=16\n16+3=19\n#### 19", twoVerbs.MisreadSolution(problem));

        var sells = new TeacherBlindSpot { Verb = "sells" };
        Assert.All(Problems, p => Assert.Equal(TeacherBlindSpot.Default.Covers(p) || sells.Covers(p), twoVerbs.Covers(p)));
        // Each subtraction template is about a fifth of the task, so the union is near two fifths.
        Assert.InRange(Problems.Count(twoVerbs.Covers) / (double)Problems.Count, 0.3, 0.5);

        // bootstrap.json keeps the one field it always had, and reads back to the same blind spot.
        var json = System.Text.Json.JsonSerializer.Serialize(twoVerbs);
        Assert.Equal("""{"Verb":"loses,sells","ErrorRate":0.9}""", json);
        Assert.Equal(twoVerbs, System.Text.Json.JsonSerializer.Deserialize<TeacherBlindSpot>(json));
    }

    [Fact]
    public void ASolutionNotInTheGeneratorsFormatIsRefusedNamingTheProblem()
    {
        var problem = new MathProblem("gsm8k-7", "Sam has 12 pens. Sam loses 4. How many pens does Sam have now?", "He has 8 left.\n#### 8", "8");

        var error = Assert.Throws<FormatException>(() => TeacherBlindSpot.Default.MisreadSolution(problem));
        Assert.Contains("gsm8k-7", error.Message);
    }

    [Theory]
    [InlineData("", 0.9)]
    [InlineData("gives away", 0.9)]
    [InlineData("loses,", 0.9)]
    [InlineData("loses, sells", 0.9)]
    [InlineData("loses", 0)]
    [InlineData("loses", 1.5)]
    [InlineData("loses", double.NaN)]
    public void InvalidSettingsAreRefused(string verb, double errorRate) =>
        Assert.Throws<ArgumentException>(() => new TeacherBlindSpot { Verb = verb, ErrorRate = errorRate }.Validate());
}
