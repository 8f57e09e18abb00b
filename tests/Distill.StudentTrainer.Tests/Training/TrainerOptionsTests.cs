using Distill.CommandLine;
using Distill.Testing;
using Microsoft.Extensions.Configuration;
using Distill.StudentTrainer.Training;

namespace Distill.StudentTrainer.Tests.Training;

public class TrainerOptionsTests
{
    /// <summary>Options bound as the trainer binds them, from the flags given (the student and d filled in when absent).</summary>
    private static TrainerOptions Bind(params string[] args)
    {
        var values = FlagCommandLine.ToConfiguration(TrainerCommandLine.Flags, args);
        values.TryAdd("Trainer:Student", Directory.GetCurrentDirectory());
        values.TryAdd("Trainer:Threshold", "5");
        var options = new TrainerOptions();
        options.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(TrainerOptions.SectionName));
        return options;
    }

    [Fact]
    public void ValidOptionsHaveNoProblems() => Assert.Empty(Bind().Validate());

    [Theory]
    [InlineData("--steps", "0")]
    [InlineData("--group-size", "1")]
    [InlineData("--temperature", "0")]
    [InlineData("--top-p", "1.5")]
    [InlineData("--lr", "-1")]
    [InlineData("--dataset", "/no/such/file.jsonl")]
    [InlineData("--student", "/no/such/checkpoint")]
    [InlineData("--kappa", "-0.5")]
    [InlineData("--warmup-steps", "-1")]
    [InlineData("--format-bonus", "1")]
    [InlineData("--violation-target", "1")]
    [InlineData("--max-new-tokens", "0")]
    [InlineData("--threshold", "-1")]
    public void EachInvalidValueGivesOneMessageNamingItsFlag(string flag, string value)
    {
        var problem = Assert.Single(Bind(flag, value).Validate());
        Assert.StartsWith(flag, problem);
    }

    [Theory]
    [InlineData("--objective", "cmdpp")]
    [InlineData("--cost-estimator", "k2")]
    [InlineData("--budget-scope", "token")]
    [InlineData("--advantage", "group-normalised")]
    [InlineData("--cmdp-form", "per-step")]
    [InlineData("--chance-cost", "square")]
    public void AnUnknownSpellingIsAParseErrorNamingItsFlag(string flag, string value)
    {
        var error = Assert.Throws<OptionsValidationProblem>(() => Bind(flag, value));
        Assert.StartsWith($"{flag} must be one of", error.Message);
    }

    [Theory]
    [InlineData("--steps", "many", "an integer")]
    [InlineData("--threshold", "d", "a number")]
    [InlineData("--teacher", "teacher:5000", "an absolute http(s) URL")]
    public void AValueOfTheWrongTypeIsAParseErrorNamingItsFlag(string flag, string value, string expected)
    {
        var error = Assert.Throws<OptionsValidationProblem>(() => Bind(flag, value));
        Assert.Equal($"{flag} must be {expected} (got {value}).", error.Message);
    }

    [Fact]
    public void WarmupRisesLinearlyToTheLearningRateThenHoldsIt()
    {
        var options = Bind("--lr", "1e-4", "--warmup-steps", "4");
        Assert.Equal([2.5e-5, 5e-5, 7.5e-5, 1e-4, 1e-4], Enumerable.Range(1, 5).Select(step => Math.Round(options.LearningRateAt(step), 12)));
        options.WarmupSteps = 0;
        Assert.Equal(1e-4, options.LearningRateAt(1));
    }

    [Fact]
    public void TheThresholdIsRequired()
    {
        var options = new TrainerOptions { Student = Directory.GetCurrentDirectory() };
        Assert.StartsWith("--threshold", Assert.Single(options.Validate()));
    }

    [Fact]
    public void KebabCaseSpellingsBindToTheObjectiveSettingsOnce()
    {
        var objective = Bind("--cost-estimator", "top-k-exact", "--cost-aggregation", "mean", "--budget-scope", "prefix",
            "--advantage", "leave-one-out", "--lambda-update", "pid", "--max-new-tokens", "30", "--pid-kd", "0.5").ObjectiveOptions;
        Assert.Equal(Core.Divergence.CostEstimator.TopKExact, objective.Estimator);
        Assert.Equal(Core.Divergence.CostAggregation.Mean, objective.Aggregation);
        Assert.Equal(Core.Divergence.BudgetScope.Prefix, objective.Scope);
        Assert.Equal(Objectives.AdvantageMode.LeaveOneOut, objective.Advantage);
        Assert.Equal(Objectives.LambdaUpdate.Pid, objective.LambdaUpdate);
        Assert.Equal(30, objective.MaxCompletionLength);
        Assert.Equal(0.5, objective.Pid.Derivative);

        objective = Bind("--cost-estimator", "exact", "--advantage", "batch-std", "--cmdp-form", "per-token", "--chance-cost", "hinge").ObjectiveOptions;
        Assert.Equal(Core.Divergence.CostEstimator.Exact, objective.Estimator);
        Assert.Equal(Objectives.AdvantageMode.BatchStd, objective.Advantage);
        Assert.Equal(Objectives.CmdpForm.PerToken, objective.CmdpForm);
        Assert.Equal(Objectives.ChanceCost.Hinge, objective.ChanceCost);
        Assert.Equal(Objectives.AdvantageMode.GroupRewardBatchPenalty, Bind("--advantage", "group-reward-batch-penalty").ObjectiveOptions.Advantage);
        // Configuration files and environment variables of earlier versions hold the C# names and "group-normalized".
        var options = new TrainerOptions();
        options.Bind(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Trainer:CostEstimator"] = "TopKExact", ["Trainer:Advantage"] = "group-normalized",
        }).Build().GetSection(TrainerOptions.SectionName));
        Assert.Equal(Core.Divergence.CostEstimator.TopKExact, options.ObjectiveOptions.Estimator);
        Assert.Equal(Objectives.AdvantageMode.GroupStd, options.ObjectiveOptions.Advantage);
    }

    [Fact]
    public void DefaultsAreTheObjectiveSettingsOwnAndHelpShowsThem()
    {
        var options = Bind();
        Assert.Equal(new Objectives.ObjectiveOptions { Threshold = 5, MaxCompletionLength = options.MaxNewTokens }, options.ObjectiveOptions);
        Assert.Equal("group-mean", TrainerCommandLine.Flags.Single(flag => flag.Name == "--advantage").Default);
        Assert.Equal("0.1", TrainerCommandLine.Flags.Single(flag => flag.Name == "--kappa").Default);
        Assert.Equal("48", TrainerCommandLine.Flags.Single(flag => flag.Name == "--max-new-tokens").Default);
        Assert.Null(TrainerCommandLine.Flags.Single(flag => flag.Name == "--threshold").Default);
    }
}

public class CommandLineTests
{
    private static IReadOnlyDictionary<string, string?> Parse(params string[] args) =>
        FlagCommandLine.ToConfiguration(TrainerCommandLine.Flags, args);

    [Fact]
    public void FlagsMapToConfigurationKeys()
    {
        var values = Parse("--objective", "lagrangian", "--threshold=4.5", "--lambda-init", "-0", "--teacher", "http://127.0.0.1:5000");
        Assert.Equal("lagrangian", values["Trainer:Objective"]);
        Assert.Equal("4.5", values["Trainer:Threshold"]);
        Assert.Equal("-0", values["Trainer:LambdaInit"]);
        Assert.Equal("http://127.0.0.1:5000", values["TeacherClient:BaseAddress"]);
    }

    [Fact]
    public void BooleanFlagsMayStandAlone()
    {
        var values = Parse("--resume", "--steps", "3", "--distill-per-token");
        Assert.Equal("true", values["Trainer:Resume"]);
        Assert.Equal("3", values["Trainer:Steps"]);
        Assert.Equal("true", values["Trainer:DistillPerToken"]);
        Assert.Equal("false", Parse("--resume", "false")["Trainer:Resume"]);
    }

    [Fact]
    public void AnUnknownFlagIsAnErrorNamingIt()
    {
        var error = Assert.Throws<OptionsValidationProblem>(() => Parse("--treshold", "3"));
        Assert.Contains("--treshold", error.Message);
    }

    [Fact]
    public void AFlagWithoutItsValueIsAnError()
    {
        var error = Assert.Throws<OptionsValidationProblem>(() => Parse("--steps"));
        Assert.Contains("--steps", error.Message);
    }

    [Theory]
    [InlineData]
    [InlineData("bootstrap")]
    public async Task HelpListsEveryFlagWithItsDefaultAndMeaning(params string[] command)
    {
        var output = new StringWriter();
        var root = TrainerCommandLine.Create((_, _) => Task.FromResult(1), (_, _) => Task.FromResult(1));

        Assert.Equal(0, await root.InvokeAsync([.. command, "--help"], output));

        var flags = command.Length == 0 ? TrainerCommandLine.Flags : TrainerCommandLine.BootstrapFlags;
        foreach (var flag in flags)
            Assert.Contains(flag.Name, output.ToString());
        Assert.Contains(command.Length == 0 ? "[default: group-mean]" : "[default: data/models]", output.ToString());
    }

    [Theory]
    [InlineData("--student-problems", "0", "--student-problems must be at least 1")]
    [InlineData("--teacher-steps", "-5", "--teacher-steps must be at least 1")]
    [InlineData("--blind-spot-error-rate", "1.5", "--blind-spot/--blind-spot-error-rate")]
    [InlineData("--blind-spot", "gives away", "one verb, or several separated by commas")]
    [InlineData("--student-sign-off-share", "1", "--student-sign-off-share must be within [0, 1)")]
    [InlineData("--student-sign-off-line", "#### 0", "--student-sign-off-line cannot be used: it contains ####")]
    [InlineData("--student-sign-off-line", "Hope this helps\u00e9", "--student-sign-off-line cannot be used: '\u00e9' is not in the default tokenizer's alphabet")]
    public async Task ABadBootstrapValueIsRefusedNamingItsFlagBeforeAnythingIsTrained(string flag, string value, string message)
    {
        using var output = new TemporaryDirectory();
        var error = new StringWriter();
        var root = TrainerCommandLine.Create((_, _) => Task.FromResult(1), Distill.StudentTrainer.Bootstrap.BootstrapCommand.RunAsync);

        Assert.Equal(ExitCodes.Usage, await root.InvokeAsync(["bootstrap", "--output", output.Path, flag, value], TextWriter.Null, error));
        Assert.Contains(message, error.ToString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(output.Path));
    }

    [Fact]
    public async Task AParseErrorIsAnErrorLineAndExitCode2()
    {
        var error = new StringWriter();
        var root = TrainerCommandLine.Create((_, _) => Task.FromResult(0), (_, _) => Task.FromResult(0));

        Assert.Equal(ExitCodes.Usage, await root.InvokeAsync(["--treshold", "3"], TextWriter.Null, error));
        Assert.StartsWith("error: unknown flag --treshold", error.ToString());
    }
}

/// <summary>The README's table of objectives is the factory's: a change to one without the other fails here.</summary>
public class ObjectiveTableTests
{
    [Fact]
    public void TheReadmeTableIsTheFactorysMetadata()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "README.md")))
            directory = directory.Parent;
        var readme = File.ReadAllText(Path.Combine(directory!.FullName, "README.md")).ReplaceLineEndings("\n");
        const string begin = "<!-- objectives: made from TrainingObjectiveFactory.All -->\n", end = "<!-- end of objectives -->";
        int start = readme.IndexOf(begin, StringComparison.Ordinal) + begin.Length;
        Assert.Equal(Objectives.TrainingObjectiveFactory.MarkdownTable(), readme[start..readme.IndexOf(end, start, StringComparison.Ordinal)]);
    }
}

public class PromptSourceTests
{
    [Fact]
    public async Task BatchesDependOnlyOnSeedAndStepSoAResumedRunSeesTheSamePrompts()
    {
        var first = await PromptSource.LoadAsync("generated", seed: 3, CancellationToken.None);
        var second = await PromptSource.LoadAsync("generated", seed: 3, CancellationToken.None);
        Assert.Equal(first.Batch(7, 4).Select(p => p.Id), second.Batch(7, 4).Select(p => p.Id));
        Assert.NotEqual(first.Batch(7, 4).Select(p => p.Id), first.Batch(8, 4).Select(p => p.Id));
    }

    [Fact]
    public async Task NoProblemRepeatsWithinAnEpoch()
    {
        var source = await PromptSource.LoadAsync("generated", seed: 1, CancellationToken.None);
        var ids = Enumerable.Range(1, 100).SelectMany(step => source.Batch(step, 50)).Select(p => p.Id).ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Fact]
    public async Task AMissingDatasetFileIsNamed()
    {
        var error = await Assert.ThrowsAnyAsync<IOException>(() => PromptSource.LoadAsync("/no/such/gsm8k.jsonl", 1, CancellationToken.None));
        Assert.Contains("gsm8k.jsonl", error.Message);
    }
}

public class RunManifestTests
{
    [Fact]
    public void RunJsonHoldsTypedSettingsInKebabCaseAndOldFilesWithTheCSharpNamesStillRead()
    {
        using var directory = new TemporaryDirectory();
        var run = new Core.Runs.RunDirectory(directory.Path);
        var manifest = new Core.Runs.RunManifest("r", "cmdp", 6, Core.Divergence.CostEstimator.TopKExact, Core.Divergence.CostAggregation.Mean,
            Core.Divergence.BudgetScope.Prefix, 1, "student", "teacher", "generated", 10, DateTimeOffset.UnixEpoch, 0.7);
        Core.Runs.RunDirectory.WriteJsonAtomically(run.ManifestPath, manifest);
        var written = File.ReadAllText(run.ManifestPath);
        Assert.Contains("\"costEstimator\":\"top-k-exact\"", written);
        Assert.Contains("\"budgetScope\":\"prefix\"", written);
        Assert.Equal(manifest, run.ReadManifest());

        // As an earlier trainer wrote it: strings, some of them the enums' C# names.
        File.WriteAllText(run.ManifestPath, """
            {"runId":"r","objective":"cmdp","threshold":6,"costEstimator":"TopKExact","costAggregation":"Mean","budgetScope":"prefix",
             "seed":1,"studentPath":"student","teacherModelId":"teacher","dataset":"generated","totalSteps":10,"startedAt":"1970-01-01T00:00:00+00:00"}
            """);
        Assert.Equal(manifest with { Temperature = null }, run.ReadManifest());
    }
}
