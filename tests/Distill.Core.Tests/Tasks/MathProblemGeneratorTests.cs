using System.Text.RegularExpressions;
using Distill.Core.Tasks;

namespace Distill.Core.Tests.Tasks;

public partial class MathProblemGeneratorTests
{
    [Fact]
    public void SameSeedGivesIdenticalProblemsAndOtherSeedsDiffer()
    {
        var generator = new MathProblemGenerator();

        var first = generator.Generate(ProblemSplit.Train, seed: 42, count: 200);
        var again = new MathProblemGenerator().Generate(ProblemSplit.Train, seed: 42, count: 200);
        var other = generator.Generate(ProblemSplit.Train, seed: 43, count: 200);

        Assert.Equal(first, again);
        Assert.NotEqual(first.Select(p => p.Question), other.Select(p => p.Question));
    }

    [Fact]
    public void SolutionsRecomputeToTheAnswerOneStepPerLine()
    {
        foreach (var problem in new MathProblemGenerator(new MathProblemOptions { Operations = Enum.GetValues<ArithmeticOperation>() })
                     .Generate(ProblemSplit.Train, seed: 1, count: 500))
        {
            var lines = problem.Solution.Split('\n');
            var running = (long?)null;
            foreach (var line in lines[..^1])
            {
                var step = StepLine().Match(line);
                Assert.True(step.Success, line);
                long a = long.Parse(step.Groups[1].Value), b = long.Parse(step.Groups[3].Value), result = long.Parse(step.Groups[4].Value);
                Assert.Equal(running ?? a, a);
                Assert.Equal(step.Groups[2].Value switch { "+" => a + b, "-" => a - b, "*" => a * b, _ => a / b }, result);
                if (step.Groups[2].Value == "/")
                {
                    Assert.Equal(0, a % b);
                }

                running = result;
            }

            Assert.Equal($"#### {running}", lines[^1]);
            Assert.Equal(running.ToString(), problem.Answer);
            Assert.True(AnswerChecker.Check(problem.Solution, problem.Answer).IsCorrect);
        }
    }

    [Fact]
    public void DefaultsAreSmallAndShort()
    {
        var problems = new MathProblemGenerator().Generate(ProblemSplit.Train, seed: 7, count: 1000);

        foreach (var problem in problems)
        {
            var steps = problem.Solution.Split('\n').Length - 1;
            Assert.InRange(steps, 2, 3);
            Assert.All(Numbers(problem.Solution), n => Assert.InRange(n, 0, 199));
            Assert.All(Numbers(problem.Question), n => Assert.InRange(n, 1, 20));
        }

        Assert.InRange(problems.Average(p => p.Question.Length), 60, 120);
        Assert.Equal(problems.Count, problems.Select(p => p.Question).Distinct().Count());
    }

    [Fact]
    public void KnobsChangeStepsOperandsAndOperations()
    {
        var options = new MathProblemOptions { MinSteps = 4, MaxSteps = 4, MaxOperand = 9, MaxResult = 50, Operations = [ArithmeticOperation.Add] };

        foreach (var problem in new MathProblemGenerator(options).Generate(ProblemSplit.Train, seed: 5, count: 300))
        {
            var stepLines = problem.Solution.Split('\n')[..^1];
            Assert.All(stepLines, line => Assert.Matches(@"^\d+\+\d+=\d+$", line));
            Assert.All(Numbers(problem.Question), n => Assert.InRange(n, 1, 9));
            Assert.All(Numbers(problem.Solution), n => Assert.InRange(n, 0, 50));
            // Addition can stop early only when the total has reached MaxResult.
            Assert.True(stepLines.Length == 4 || int.Parse(problem.Answer) == 50, problem.Solution);
        }
    }

    [Fact]
    public void SplitsNeverShareAQuestion()
    {
        var generator = new MathProblemGenerator();
        var train = generator.Generate(ProblemSplit.Train, seed: 0, count: 3000).Select(p => p.Question).ToHashSet();
        var validation = generator.Generate(ProblemSplit.Validation, seed: 0, count: 200);
        var test = generator.Generate(ProblemSplit.Test, seed: 0, count: 200);

        Assert.All(validation, p => Assert.Equal(ProblemSplit.Validation, MathProblemGenerator.SplitOf(p.Question)));
        Assert.All(test, p => Assert.Equal(ProblemSplit.Test, MathProblemGenerator.SplitOf(p.Question)));
        Assert.DoesNotContain(validation.Concat(test), p => train.Contains(p.Question));
        Assert.Empty(validation.Select(p => p.Question).Intersect(test.Select(p => p.Question)));
    }

    [Fact]
    public void TooSmallAProblemSpaceFailsClearly()
    {
        var tiny = new MathProblemOptions { MinSteps = 1, MaxSteps = 1, MaxOperand = 2, MaxResult = 2, Operations = [ArithmeticOperation.Subtract] };

        var error = Assert.Throws<InvalidOperationException>(() => new MathProblemGenerator(tiny).Generate(ProblemSplit.Train, 0, 20_000));

        Assert.Contains("too few", error.Message);
    }

    [Theory]
    [InlineData(0, 2, 20, 199)]
    [InlineData(3, 2, 20, 199)]
    [InlineData(2, 3, 1, 199)]
    [InlineData(2, 3, 20, 10)]
    public void InvalidOptionsAreRejected(int minSteps, int maxSteps, int maxOperand, int maxResult) =>
        Assert.Throws<ArgumentException>(() => new MathProblemGenerator(
            new MathProblemOptions { MinSteps = minSteps, MaxSteps = maxSteps, MaxOperand = maxOperand, MaxResult = maxResult }));

    [Fact]
    public void PromptFormatEndsTheCompletionWithEos()
    {
        var problem = new MathProblemGenerator().Generate(ProblemSplit.Train, 0, 1)[0];
        var tokenizer = Distill.Core.Tokenization.CharTokenizer.Default;

        var example = PromptFormat.Encode(tokenizer, problem);

        Assert.Equal($"Q: {problem.Question}\nA: ", PromptFormat.Render(problem.Question));
        Assert.Equal(PromptFormat.Render(problem.Question), tokenizer.Decode(example.PromptIds));
        Assert.Equal(tokenizer.EosTokenId, example.CompletionIds[^1]);
        Assert.Equal(problem.Solution, tokenizer.Decode(example.CompletionIds));
    }

    private static IEnumerable<int> Numbers(string text) => Regex.Matches(text, @"\d+").Select(m => int.Parse(m.Value));

    [GeneratedRegex(@"^(\d+)([+\-*/])(\d+)=(\d+)$")]
    private static partial Regex StepLine();
}
