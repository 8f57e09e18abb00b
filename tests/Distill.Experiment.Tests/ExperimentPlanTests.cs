using Distill.Experiment;
using Distill.CommandLine;

namespace Distill.Experiment.Tests;

public class ExperimentPlanTests
{
    [Fact]
    public void TheDefaultPlanCoversEveryMethodThresholdAndSeedWithOneScheduleForAll()
    {
        var options = ExperimentOptions.Parse([]);
        var plan = ExperimentPlan.Create(options);
        var main = plan.Where(r => r.Group == RunGroup.Main).ToArray();

        // cmdp and lagrangian read d: one run per (d, seed); kl-penalty ×2, reward-only, distill and sft do not: one per seed.
        Assert.Equal(3 * 3 * 2 + 3 * 5, main.Length);
        foreach (var d in new[] { 8.0, 12, 16 })
            foreach (var method in new[] { "cmdp", "lagrangian" })
                Assert.Equal([1, 2, 3], main.Where(r => r.Method == method && r.Threshold == d).Select(r => r.Seed).Order());
        foreach (var method in new[] { "kl-penalty λ=0.05", "kl-penalty λ=0.2", "reward-only", "distill", "sft" })
            Assert.Equal(3, main.Count(r => r.Method == method));
        Assert.Equal(plan.Count, plan.Select(r => r.Name).Distinct().Count());
        Assert.Equal(options.Steps * options.BatchSize * options.GroupSize, options.TeacherScoredSamplesPerRun);
    }

    [Fact]
    public void SensitivityMovesOneKnobAwayFromItsDefaultAtTheMiddleThresholdAndFirstSeed()
    {
        var options = ExperimentOptions.Parse(["--penalties", "0.5,1,2", "--kappas", "0,0.3", "--lambda-lrs", "0.001,0.03"]);
        var sensitivity = ExperimentPlan.Create(options).Where(r => r.Group == RunGroup.Sensitivity).ToArray();

        // n = 1 is the default, already in the main grid: not run twice.
        Assert.Equal(["cmdp-kappa0-d12-s1", "cmdp-kappa0.3-d12-s1", "cmdp-n0.5-d12-s1", "cmdp-n2-d12-s1",
                      "lagrangian-lambdalr0.001-d12-s1", "lagrangian-lambdalr0.03-d12-s1"], sensitivity.Select(r => r.Name).Order());
        Assert.All(sensitivity, run => Assert.Single(run.TrainerFlags));
        Assert.All(sensitivity, run => Assert.Equal((12.0, 1), (run.Threshold, run.Seed)));
    }

    [Fact]
    public void SeedOrderLetsAnExperimentStoppedEarlyHaveEveryMethodForTheSeedsItFinished()
    {
        var plan = ExperimentPlan.Create(ExperimentOptions.Parse(["--sensitivity", "false"]));
        var seeds = plan.Select(r => r.Seed).ToArray();
        Assert.Equal(seeds.Order(), seeds);
    }

    [Fact]
    public void ASweepRunsEveryMainRunAtEachRateAsAMethodOfItsOwn()
    {
        var plan = ExperimentPlan.Create(ExperimentOptions.Parse(["--objectives", "cmdp,distill", "--thresholds", "3", "--seeds", "1,2",
            "--lr-sweep", "0.0001,0.0003", "--distill-per-token"]));

        // Sensitivity runs are not swept: the sweep chooses each method's rate, the sensitivity runs then use it.
        Assert.All(plan, run => Assert.Equal(RunGroup.Main, run.Group));
        Assert.Equal(["cmdp-d3-lr0.0001-s1", "cmdp-d3-lr0.0001-s2", "cmdp-d3-lr0.0003-s1", "cmdp-d3-lr0.0003-s2",
                      "distill-per-token-lr0.0001-s1", "distill-per-token-lr0.0001-s2", "distill-per-token-lr0.0003-s1", "distill-per-token-lr0.0003-s2"],
            plan.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(plan, run => Assert.EndsWith($" lr={ExperimentPlan.Number(run.LearningRate)}", run.Method));
        Assert.All(plan.Where(r => r.Objective == "distill"), run => Assert.Equal("true", run.TrainerFlags["DistillPerToken"]));
    }

    [Fact]
    public void EachCmdpFormIsAMethodOfItsOwnAndThePerTokenFormTellsTheTrainerSo()
    {
        var plan = ExperimentPlan.Create(ExperimentOptions.Parse(["--objectives", "cmdp", "--cmdp-forms", "trajectory,per-token",
            "--thresholds", "2.6", "--seeds", "1,2", "--sensitivity", "false", "--method-lrs", "cmdp=0.0003"]));

        Assert.Equal(["cmdp-d2.6-s1", "cmdp-d2.6-s2", "cmdp-per-token-d2.6-s1", "cmdp-per-token-d2.6-s2"],
            plan.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(plan.Where(r => r.Method == "cmdp"), run => Assert.Empty(run.TrainerFlags));
        Assert.All(plan.Where(r => r.Method == "cmdp per-token"), run => Assert.Equal("per-token", run.TrainerFlags["CmdpForm"]));
        Assert.All(plan, run => Assert.Equal(("cmdp", 0.0003), (run.Objective, run.LearningRate)));
    }

    [Fact]
    public void AnAdvantageModeOtherThanTheDefaultIsNamedInEverySamplingRunAndPassedOn()
    {
        var options = ExperimentOptions.Parse(["--objectives", "cmdp,lagrangian-chance,kl-penalty,sft", "--kl-coefs", "0.2",
            "--thresholds", "2.6", "--seeds", "1", "--sensitivity", "false", "--violation-targets", "0.05",
            "--chance-lambda-lr", "0.1", "--advantage", "group-reward-batch-penalty"]);
        var plan = ExperimentPlan.Create(options);

        Assert.Equal(StudentTrainer.Objectives.AdvantageMode.GroupRewardBatchPenalty, options.Advantage);
        Assert.Equal(["cmdp group-reward-batch-penalty", "kl-penalty λ=0.2 group-reward-batch-penalty",
                      "lagrangian-chance η_λ=0.1 group-reward-batch-penalty", "sft"], plan.Select(r => r.Method).Order(StringComparer.Ordinal));
        Assert.Equal(["cmdp-group-reward-batch-penalty-d2.6-s1", "kl-penalty-group-reward-batch-penalty-kl0.2-s1",
                      "lagrangian-chance-group-reward-batch-penalty-lambdalr0.1-d2.6-s1", "sft-s1"], plan.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(plan.Where(r => r.Objective != "sft"), run => Assert.Equal("group-reward-batch-penalty", run.TrainerFlags["Advantage"]));
        Assert.Equal("0.1", plan.Single(r => r.Objective == "lagrangian-chance").TrainerFlags["LambdaLearningRate"]);
        Assert.Empty(plan.Single(r => r.Objective == "sft").TrainerFlags);
        // At the default nothing changes: earlier experiments' runs keep their names.
        Assert.Equal("cmdp-d2.6-s1", ExperimentPlan.Create(ExperimentOptions.Parse(["--objectives", "cmdp", "--thresholds", "2.6",
            "--seeds", "1", "--sensitivity", "false", "--advantage", "group-mean"])).Single().Name);
    }

    [Fact]
    public void AMethodsOwnRateOverridesTheSharedOneForEveryRunOfIt()
    {
        var plan = ExperimentPlan.Create(ExperimentOptions.Parse(["--lr", "0.0002", "--method-lrs", "distill=0.00005,cmdp=0.0003"]));

        Assert.All(plan.Where(r => r.Objective == "distill"), run => Assert.Equal(0.00005, run.LearningRate));
        Assert.All(plan.Where(r => r.Objective == "cmdp"), run => Assert.Equal(0.0003, run.LearningRate));
        Assert.All(plan.Where(r => r.Objective is not ("cmdp" or "distill")), run => Assert.Equal(0.0002, run.LearningRate));
    }

    [Fact]
    public void TheChanceLagrangianAtTheTrainersDefaultsKeepsItsPlainNameSoEarlierRunsAreReadBack()
    {
        var plan = ExperimentPlan.Create(ExperimentOptions.Parse(["--objectives", "lagrangian-chance", "--thresholds", "2.6",
            "--seeds", "1", "--sensitivity", "false"]));

        var run = Assert.Single(plan);
        Assert.Equal(("lagrangian-chance-d2.6-s1", "lagrangian-chance"), (run.Name, run.Method));
        Assert.Empty(run.TrainerFlags);
    }

    [Fact]
    public void EachViolationTargetIsAMethodOfItsOwnAndAMovedDualRateIsNamedAndPassedOn()
    {
        var plan = ExperimentPlan.Create(ExperimentOptions.Parse(["--objectives", "lagrangian-chance,lagrangian", "--thresholds", "2.6",
            "--seeds", "1,2", "--sensitivity", "false", "--violation-targets", "0.02,0.05", "--chance-lambda-lr", "0.1"]));

        var chance = plan.Where(r => r.Objective == "lagrangian-chance").ToArray();
        Assert.Equal(["lagrangian-chance-delta0.02-lambdalr0.1-d2.6-s1", "lagrangian-chance-delta0.02-lambdalr0.1-d2.6-s2",
                      "lagrangian-chance-delta0.05-lambdalr0.1-d2.6-s1", "lagrangian-chance-delta0.05-lambdalr0.1-d2.6-s2"],
            chance.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["lagrangian-chance δ=0.02 η_λ=0.1", "lagrangian-chance δ=0.05 η_λ=0.1"], chance.Select(r => r.Method).Distinct().Order(StringComparer.Ordinal));
        Assert.All(chance, run => Assert.Equal(("0.1", run.Method.Contains("0.02") ? "0.02" : "0.05"),
            (run.TrainerFlags["LambdaLearningRate"], run.TrainerFlags["ViolationTarget"])));
        // The expectation Lagrangian keeps its own dual rate: the flag is the chance form's.
        Assert.All(plan.Where(r => r.Objective == "lagrangian"), run => Assert.Empty(run.TrainerFlags));
    }

    [Theory]
    [InlineData("--violation-targets", "1")]
    [InlineData("--violation-targets", "0.05,0.05")]
    [InlineData("--violation-targets", "often")]
    [InlineData("--chance-lambda-lr", "0")]
    [InlineData("--thresholds", "8,x")]
    [InlineData("--method-lrs", "distill")]
    [InlineData("--method-lrs", "ppo=0.001")]
    [InlineData("--method-lrs", "cmdp=-1")]
    [InlineData("--lr-sweep", "0.001,fast")]
    [InlineData("--eval-split", "train")]
    [InlineData("--thresholds", "-1")]
    [InlineData("--seeds", "1,1")]
    [InlineData("--seeds", "1.5")]
    [InlineData("--objectives", "cmdp,ppo")]
    [InlineData("--steps", "0")]
    [InlineData("--eval-problems", "0")]
    [InlineData("--kl-coefs", "-0.1")]
    [InlineData("--steps", "many")]
    [InlineData("--cmdp-forms", "per-step")]
    [InlineData("--cmdp-forms", "trajectory,trajectory")]
    [InlineData("--cost-estimator", "k2")]
    [InlineData("--advantage", "batch-mean")]
    public void ABadValueIsRefusedNamingItsFlag(string flag, string value)
    {
        var error = Assert.Throws<OptionsValidationProblem>(() => ExperimentOptions.Parse([flag, value]));
        Assert.Contains(flag, error.Message);
    }

    [Fact]
    public void AnUnknownFlagIsRefused() =>
        Assert.Contains("--seed", Assert.Throws<OptionsValidationProblem>(() => ExperimentOptions.Parse(["--seed", "1"])).Message);

    [Fact]
    public async Task HelpListsEveryFlagWithItsDefaultAndMeaning()
    {
        var output = new StringWriter();
        Assert.Equal(0, await ExperimentOptions.CreateCommand(_ => Task.FromResult(1)).InvokeAsync(["--help"], output));
        foreach (var flag in ExperimentOptions.Flags)
            Assert.Contains(flag.Name, output.ToString());
        Assert.Contains("[default: 8,12,16]", output.ToString());
    }

    [Fact]
    public async Task ABadValueOnTheCommandLineIsAnErrorLineAndExitCode2()
    {
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Usage, await ExperimentOptions.CreateCommand(_ => Task.FromResult(0)).InvokeAsync(["--steps", "0"], TextWriter.Null, error));
        Assert.StartsWith("error: --steps must be at least 1", error.ToString());
    }
}
