using Distill.ServiceDefaults;
using Distill.StudentTrainer.Training;

namespace Distill.StudentTrainer.Tests.Training;

public class TrainerOptionsTests
{
    private static TrainerOptions Valid() => new() { Student = Directory.GetCurrentDirectory(), Threshold = 5 };

    [Fact]
    public void ValidOptionsHaveNoProblems() => Assert.Empty(Valid().Validate());

    [Theory]
    [InlineData("--objective", nameof(TrainerOptions.Objective), "cmdpp")]
    [InlineData("--steps", nameof(TrainerOptions.Steps), "0")]
    [InlineData("--group-size", nameof(TrainerOptions.GroupSize), "1")]
    [InlineData("--temperature", nameof(TrainerOptions.Temperature), "0")]
    [InlineData("--top-p", nameof(TrainerOptions.TopP), "1.5")]
    [InlineData("--lr", nameof(TrainerOptions.LearningRate), "-1")]
    [InlineData("--cost-estimator", nameof(TrainerOptions.CostEstimator), "k2")]
    [InlineData("--budget-scope", nameof(TrainerOptions.BudgetScope), "token")]
    [InlineData("--dataset", nameof(TrainerOptions.Dataset), "/no/such/file.jsonl")]
    [InlineData("--student", nameof(TrainerOptions.Student), "/no/such/checkpoint")]
    [InlineData("--kappa", nameof(TrainerOptions.Kappa), "-0.5")]
    [InlineData("--warmup-steps", nameof(TrainerOptions.WarmupSteps), "-1")]
    [InlineData("--format-bonus", nameof(TrainerOptions.FormatBonus), "1")]
    [InlineData("--advantage", nameof(TrainerOptions.Advantage), "group-normalised")]
    [InlineData("--cmdp-form", nameof(TrainerOptions.CmdpForm), "per-step")]
    [InlineData("--violation-target", nameof(TrainerOptions.ViolationTarget), "1")]
    [InlineData("--chance-cost", nameof(TrainerOptions.ChanceCost), "square")]
    public void EachInvalidValueGivesOneMessageNamingItsFlag(string flag, string property, string value)
    {
        var options = Valid();
        var target = typeof(TrainerOptions).GetProperty(property)!;
        var type = Nullable.GetUnderlyingType(target.PropertyType) ?? target.PropertyType;
        target.SetValue(options, Convert.ChangeType(value, type, System.Globalization.CultureInfo.InvariantCulture));

        var problem = Assert.Single(options.Validate());
        Assert.StartsWith(flag, problem);
    }

    [Fact]
    public void WarmupRisesLinearlyToTheLearningRateThenHoldsIt()
    {
        var options = Valid();
        (options.LearningRate, options.WarmupSteps) = (1e-4, 4);
        Assert.Equal([2.5e-5, 5e-5, 7.5e-5, 1e-4, 1e-4], Enumerable.Range(1, 5).Select(step => Math.Round(options.LearningRateAt(step), 12)));
        options.WarmupSteps = 0;
        Assert.Equal(1e-4, options.LearningRateAt(1));
    }

    [Fact]
    public void TheThresholdIsRequired()
    {
        var options = Valid();
        options.Threshold = null;
        Assert.StartsWith("--threshold", Assert.Single(options.Validate()));
    }

    [Fact]
    public void CommandLineSpellingsBecomeObjectiveSettings()
    {
        var options = Valid();
        (options.CostEstimator, options.CostAggregation, options.BudgetScope, options.Advantage, options.LambdaUpdate) =
            ("top-k-exact", "mean", "prefix", "leave-one-out", "pid");
        var objective = options.ToObjectiveOptions();
        Assert.Equal(Core.Divergence.CostEstimator.TopKExact, objective.Estimator);
        Assert.Equal(Core.Divergence.CostAggregation.Mean, objective.Aggregation);
        Assert.Equal(Core.Divergence.BudgetScope.Prefix, objective.Scope);
        Assert.Equal(Objectives.AdvantageMode.LeaveOneOut, objective.Advantage);
        Assert.Equal(Objectives.LambdaUpdate.Pid, objective.LambdaUpdate);

        (options.CostEstimator, options.Advantage, options.CmdpForm, options.ChanceCost) = ("exact", "batch-std", "per-token", "hinge");
        objective = options.ToObjectiveOptions();
        Assert.Equal(Core.Divergence.CostEstimator.Exact, objective.Estimator);
        Assert.Equal(Objectives.AdvantageMode.BatchStd, objective.Advantage);
        Assert.Equal(Objectives.CmdpForm.PerToken, objective.CmdpForm);
        Assert.Equal(Objectives.ChanceCost.Hinge, objective.ChanceCost);
        // run.json files of earlier versions spell group-std "group-normalized".
        options.Advantage = "group-normalized";
        Assert.Equal(Objectives.AdvantageMode.GroupStd, options.ToObjectiveOptions().Advantage);
    }
}

public class CommandLineTests
{
    private static IReadOnlyDictionary<string, string?> Parse(params string[] args) =>
        CommandLineFlags.ToConfiguration(args, TrainerOptions.CommandLineFlags, TrainerOptions.BooleanFlags);

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
