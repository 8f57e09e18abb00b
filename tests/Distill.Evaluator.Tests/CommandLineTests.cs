using Distill.CommandLine;
using Distill.Evaluator.Cli;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator.Tests;

public class CommandLineTests
{
    /// <summary>Parses <paramref name="args"/>: the command that ran and its input, or the parse errors in place of its name.</summary>
    private static async Task<(string Command, CommandInput Input, int ExitCode)> ParseAsync(params string[] args)
    {
        (string, CommandInput)? ran = null;
        Func<CommandInput, CancellationToken, Task<int>> Record(string name) => (input, _) =>
        {
            ran = (name, input);
            return Task.FromResult(0);
        };
        var root = new EvaluatorCommandLine().Create(Record("serve"), Record("evaluate"), Record("watch"), Record("compare"));
        var error = new StringWriter();
        var exitCode = await root.InvokeAsync(args, TextWriter.Null, error);
        return ran is { } r ? (r.Item1, r.Item2, exitCode) : (error.ToString().Trim(), new CommandInput(new Dictionary<string, string?>(), []), exitCode);
    }

    private static EvaluatorOptions Bind(CommandInput input)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(input.Configuration);
        builder.AddEvaluator();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<EvaluatorOptions>>().Value;
    }

    [Fact]
    public async Task EvaluateFlagsBecomeOptions()
    {
        var (command, input, exitCode) = await ParseAsync("evaluate", "--checkpoint", "a", "b", "--teacher", "http://teacher:5000",
            "--samples", "8", "--temperature", "0.7", "--cost-estimator", "top-k-exact", "--cost-aggregation", "mean", "--sweep", "0.5", "1", "2",
            "--threshold", "1.5", "--split", "validation");

        Assert.True(command == "evaluate", command);
        Assert.Equal(0, exitCode);
        Assert.Equal("http://teacher:5000", input.Configuration["TeacherClient:BaseAddress"]);
        var options = Bind(input);
        Assert.Equal(["a", "b"], options.Checkpoints);
        Assert.Equal(8, options.SamplesPerProblem);
        Assert.Equal(0.7, options.Temperature);
        Assert.Equal(Distill.Core.Divergence.CostEstimator.TopKExact, options.Estimator);
        Assert.Equal(Distill.Core.Divergence.CostAggregation.Mean, options.Aggregation);
        Assert.Equal([0.5, 1, 2], options.SweepThresholds);
        Assert.Equal(1.5, options.Threshold);
        Assert.Equal(64, options.Problems);
        Assert.Equal(Distill.Core.Tasks.ProblemSplit.Validation, options.Split);
    }

    [Fact]
    public void TheValidationSplitIsItsOwnSetOfProblemsAndTheTrainSplitIsRefused()
    {
        var test = Distill.Evaluator.Evaluation.HeldOutSet.Load(new EvaluatorOptions { Problems = 50 });
        var validation = Distill.Evaluator.Evaluation.HeldOutSet.Load(new EvaluatorOptions { Problems = 50, Split = Distill.Core.Tasks.ProblemSplit.Validation });

        Assert.Equal("generated-test-seed-20240601", test.Name);
        Assert.Equal("generated-validation-seed-20240601", validation.Name);
        Assert.Empty(test.Problems.Select(p => p.Question).Intersect(validation.Problems.Select(p => p.Question)));

        var error = Assert.Throws<OptionsValidationException>(() =>
            Bind(new CommandInput(new Dictionary<string, string?> { ["Evaluator:Split"] = "train" }, [])));
        Assert.Contains("--split must be test or validation (got train).", error.Failures);
    }

    [Fact]
    public async Task CompareTakesRunDirectoriesAndNoArgumentsMeansServe()
    {
        var (compare, compareInput, _) = await ParseAsync("compare", "runs/a", "runs/b", "--out", "report");
        var (serve, serveInput, _) = await ParseAsync("--runs-root", "runs");

        Assert.Equal("compare", compare);
        Assert.Equal(["runs/a", "runs/b"], compareInput.RunDirectories);
        Assert.Equal("report", compareInput.Configuration["Evaluator:OutputDirectory"]);
        Assert.Equal("serve", serve);
        Assert.Equal("runs", serveInput.Configuration["Evaluator:RunsRoot"]);
    }

    [Fact]
    public async Task WatchWithoutARunDirectoryAndAnUnknownEstimatorAreParseErrors()
    {
        var (watch, _, watchExit) = await ParseAsync("watch");
        var (evaluate, _, estimatorExit) = await ParseAsync("evaluate", "--checkpoint", "a", "--cost-estimator", "k2");

        Assert.Equal(2, watchExit);
        Assert.StartsWith("error: Option '--run-dir' is required.", watch);
        Assert.Equal(2, estimatorExit);
        Assert.StartsWith("error: --cost-estimator must be one of k1|k3|top-k-exact|exact (got k2).", evaluate);
    }

    [Fact]
    public async Task AValueOfTheWrongTypeIsAParseErrorNamingItsFlag()
    {
        var (samples, _, exitCode) = await ParseAsync("evaluate", "--checkpoint", "a", "--samples", "four", "--teacher", "teacher:5000");

        Assert.Equal(2, exitCode);
        Assert.Contains("error: --samples must be an integer (got four).", samples);
        Assert.Contains("--teacher must be an absolute http(s) URL (got teacher:5000).", samples);
    }

    [Theory]
    [InlineData]
    [InlineData("evaluate")]
    [InlineData("watch")]
    [InlineData("compare")]
    public async Task EveryCommandAnswersHelpWithEachFlagItsDefaultAndMeaning(params string[] command)
    {
        var output = new StringWriter();
        var root = new EvaluatorCommandLine().Create(Fail, Fail, Fail, Fail);

        Assert.Equal(0, await root.InvokeAsync([.. command, "--help"], output));

        if (command is ["evaluate"] or ["watch"])
        {
            foreach (var flag in EvaluatorCommandLine.GenerationFlags)
                Assert.Contains(flag.Name, output.ToString());
            Assert.Contains("[default: 64]", output.ToString());
        }
        Assert.Contains("--help", output.ToString());

        static Task<int> Fail(CommandInput input, CancellationToken cancellationToken) => Task.FromResult(1);
    }

    [Fact]
    public async Task InvalidValuesFailAtStartWithTheFlagNamed()
    {
        var (_, input, _) = await ParseAsync("evaluate", "--checkpoint", "a", "--samples", "0", "--temperature", "-1", "--data", "/no/such/file.jsonl",
            "--blind-spot", "gives away");

        var error = Assert.Throws<OptionsValidationException>(() => Bind(input));
        Assert.Contains("--samples must be at least 1 (got 0).", error.Failures);
        Assert.Contains("--temperature must be a positive number (got -1).", error.Failures);
        Assert.Contains("--data must be an existing file (got /no/such/file.jsonl).", error.Failures);
        Assert.Contains("--blind-spot must be one verb, or verbs separated by commas, without spaces (got gives away).", error.Failures);
    }
}
