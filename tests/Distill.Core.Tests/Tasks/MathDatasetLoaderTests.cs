using Distill.Core.Tasks;

namespace Distill.Core.Tests.Tasks;

public class MathDatasetLoaderTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "datasets", name);

    [Fact]
    public async Task ReadsGsm8kLinesSkippingBlankOnes()
    {
        var problems = await MathDatasetLoader.ReadGsm8kAsync(Fixture("gsm8k-sample.jsonl")).ToListAsync();

        Assert.Equal(2, problems.Count);
        Assert.Equal("gsm8k-sample-1", problems[0].Id);
        Assert.StartsWith("Natalia sold clips", problems[0].Question);
        Assert.EndsWith("#### 72", problems[0].Solution);
        Assert.Equal("72", problems[0].Answer);
        Assert.Equal("gsm8k-sample-3", problems[1].Id);
        Assert.Equal("2,400", problems[1].Answer);
        Assert.True(AnswerChecker.Check("so #### 2400", problems[1].Answer).IsCorrect);
    }

    [Fact]
    public async Task ReadsMathLinesWithNestedBoxedAnswers()
    {
        var problems = await MathDatasetLoader.ReadMathAsync(Fixture("math-sample.jsonl")).ToListAsync();

        Assert.Equal(2, problems.Count);
        Assert.Equal(@"\frac{3}{4}", problems[0].Answer);
        Assert.Equal(@"\{-1, 1\}", problems[1].Answer);
        Assert.True(AnswerChecker.Check(@"\boxed{0.75}", problems[0].Answer).IsCorrect);
    }

    [Theory]
    [InlineData("{\"question\": \"q\", \"answer\": \"#### 1\"}\n{\"question\": \"q\"", 2, "malformed JSON")]
    [InlineData("{\"question\": \"q\", \"answer\": \"#### 1\"}\n\n{\"answer\": \"#### 2\"}", 3, "'question'")]
    [InlineData("{\"question\": \"q\", \"answer\": \"no marker\"}", 1, "'answer'")]
    [InlineData("{\"question\": \"q\", \"answer\": \"#### \"}", 1, "'answer'")]
    [InlineData("[1, 2]", 1, "not a JSON object")]
    [InlineData("{\"question\": 5, \"answer\": \"#### 1\"}", 1, "'question'")]
    public async Task MalformedGsm8kLineNamesFileAndLine(string content, int badLine, string expectedInMessage)
    {
        using var directory = new TemporaryDirectory();
        var path = Path.Combine(directory.Path, "bad.jsonl");
        await File.WriteAllTextAsync(path, content);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await MathDatasetLoader.ReadGsm8kAsync(path).ToListAsync());

        Assert.Contains($"{path}:{badLine}:", error.Message);
        Assert.Contains(expectedInMessage, error.Message);
    }

    [Theory]
    [InlineData("{\"problem\": \"p\", \"solution\": \"no box\"}", "'solution'")]
    [InlineData("{\"problem\": \"p\", \"solution\": \"\\\\boxed{1\"}", "'solution'")]
    [InlineData("{\"solution\": \"\\\\boxed{1}\"}", "'problem'")]
    public async Task MalformedMathLineNamesFileAndLine(string content, string expectedInMessage)
    {
        using var directory = new TemporaryDirectory();
        var path = Path.Combine(directory.Path, "bad.jsonl");
        await File.WriteAllTextAsync(path, "{\"problem\": \"p\", \"solution\": \"\\\\boxed{2}\"}\n" + content);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await MathDatasetLoader.ReadMathAsync(path).ToListAsync());

        Assert.Contains($"{path}:2:", error.Message);
        Assert.Contains(expectedInMessage, error.Message);
    }

    [Fact]
    public async Task HonoursCancellation()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await MathDatasetLoader.ReadGsm8kAsync(Fixture("gsm8k-sample.jsonl"), cancelled.Token).ToListAsync());
    }
}
