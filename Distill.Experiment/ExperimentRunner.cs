using Distill.CommandLine;
using System.Globalization;
using Distill.Core.Configuration;
using Distill.Core.Runs;
using Distill.Evaluator;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Runs;
using Distill.StudentTrainer.Training;
using Microsoft.Extensions.Options;

namespace Distill.Experiment;

/// <summary>
/// The outcome of one planned run: its training metrics, the evaluation of its final checkpoint and, with
/// <c>--eval-every-checkpoint</c>, those of its earlier checkpoints in step order.
/// </summary>
public sealed record RunResult(PlannedRun Run, IReadOnlyList<TrainingStepMetrics> Metrics, CheckpointEvaluation? Evaluation, string? Error,
    IReadOnlyList<StoredEvaluation>? EarlierCheckpoints = null)
{
    /// <summary>Training wall time, summed over steps, so a resumed run counts each step once.</summary>
    public double TrainingSeconds => Metrics.Sum(m => m.StepSeconds);
}

/// <summary>
/// Trains each planned run in this process (the trainer's own <see cref="PolicyTrainer"/>, scoring through the teacher
/// service over HTTP) and evaluates its final checkpoint with the evaluator's own runner on the shared held-out set.
/// A run already completed and evaluated is read back, not redone; a run stopped midway resumes from its last checkpoint.
/// </summary>
public sealed class ExperimentRunner(ExperimentOptions options, Uri teacher, TextWriter console) : IDisposable
{
    // Runs are evaluated at their own d (from run.json); the starting student, outside any run, at the middle d, and
    // with the teacher's own accuracy as the ceiling.
    private readonly IHost evaluator = CreateEvaluator(options, teacher, threshold: null);
    private readonly IHost startEvaluator = CreateEvaluator(options, teacher, threshold: ExperimentPlan.MiddleThreshold(options));

    public string RunsDirectory => Path.Combine(Path.GetFullPath(options.Output), "runs");

    public string StudentModel => Path.Combine(Path.GetFullPath(options.Models), "student");

    public async Task<RunResult> RunAsync(PlannedRun plan, CancellationToken cancellationToken)
    {
        var run = new RunDirectory(Path.Combine(RunsDirectory, plan.Name));
        var finalCheckpoint = run.CheckpointPath(options.Steps);
        if (run.IsCompleted)
            RequireTrainedWithThisExperimentsCosts(run);
        else
        {
            // Without a checkpoint there is nothing to resume: start clean rather than append to stale metrics.
            if (Directory.Exists(run.Path) && run.ReadLatestCheckpoint() is null)
                Directory.Delete(run.Path, recursive: true);
            await TrainAsync(plan, run, cancellationToken);
        }
        if (!EvaluationStore.HasResult(run, options.Steps))
            await evaluator.Services.GetRequiredService<EvaluationRunner>().EvaluateCheckpointsAsync([finalCheckpoint], cancellationToken);

        var stored = EvaluationStore.Read(run, options.Steps);
        var earlier = options.EvaluateEveryCheckpoint ? await EvaluateEarlierCheckpointsAsync(run, cancellationToken) : null;
        return new RunResult(plan, run.ReadMetrics(), OnThisHeldOutSet(stored?.Evaluation), stored?.Failure?.Error ?? (stored is null ? "not evaluated" : null),
            earlier);
    }

    /// <summary>
    /// Every checkpoint the run announced before its last, evaluated once on the same held-out set as the final one (a
    /// checkpoint evaluated by an earlier invocation is read back); one that could not be evaluated keeps its failure.
    /// </summary>
    private async Task<IReadOnlyList<StoredEvaluation>> EvaluateEarlierCheckpointsAsync(RunDirectory run, CancellationToken cancellationToken)
    {
        var steps = run.ReadAnnouncements().Select(a => a.Step).Where(step => step < options.Steps).Distinct().Order().ToArray();
        var missing = steps.Where(step => !EvaluationStore.HasResult(run, step)).Select(run.CheckpointPath).ToArray();
        if (missing.Length > 0)
            await evaluator.Services.GetRequiredService<EvaluationRunner>().EvaluateCheckpointsAsync(missing, cancellationToken);
        return steps.Select(step => EvaluationStore.Read(run, step) is { } stored
                ? stored with { Evaluation = OnThisHeldOutSet(stored.Evaluation) }
                : new StoredEvaluation(EvaluationStore.RunIdOf(run), step, null,
                    new EvaluationFailure(EvaluationStore.RunIdOf(run), step, run.CheckpointPath(step), "not evaluated", DateTimeOffset.UtcNow)))
            .ToArray();
    }

    /// <summary>The starting student, evaluated once: the reference every method moves away from.</summary>
    public async Task<CheckpointEvaluation?> EvaluateStartAsync(CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetFullPath(options.Output), "start", "student");
        var path = Path.Combine(directory, EvaluationStore.EvaluationFileName);
        if (!File.Exists(path))
            await startEvaluator.Services.GetRequiredService<EvaluationRunner>().EvaluateCheckpointsAsync([StudentModel], cancellationToken);
        return File.Exists(path)
            ? OnThisHeldOutSet(System.Text.Json.JsonSerializer.Deserialize<CheckpointEvaluation>(File.ReadAllText(path), EvaluationStore.Json))
            : null;
    }

    /// <summary>
    /// A completed run is read back, not retrained; one trained on another estimator's costs must not pass for this
    /// experiment's (an unfinished one is refused by the trainer's own resumption check).
    /// </summary>
    /// <exception cref="OptionsValidationProblem">The run's <c>run.json</c> names another estimator.</exception>
    private void RequireTrainedWithThisExperimentsCosts(RunDirectory run)
    {
        var trained = run.ReadManifest().CostEstimator;
        if (trained != options.CostEstimator)
            throw new OptionsValidationProblem(
                $"--out {options.Output} holds run {Path.GetFileName(run.Path)}, trained with --cost-estimator {KebabCaseEnum.Spelling(trained)}, " +
                $"not {KebabCaseEnum.Spelling(options.CostEstimator)}: give this experiment its own --out.");
    }

    /// <summary>
    /// An evaluation read back from <c>--out</c>, refused when it was made on another held-out set (another split or
    /// size): rows scored on the test split must never pass for a validation sweep's, nor the reverse.
    /// </summary>
    /// <exception cref="OptionsValidationProblem">The stored evaluation's held-out set is not this experiment's.</exception>
    private CheckpointEvaluation? OnThisHeldOutSet(CheckpointEvaluation? evaluation)
    {
        if (evaluation is null) return null;
        var held = evaluation.HeldOut;
        if (!held.Dataset.StartsWith($"generated-{options.EvaluationSplit}-", StringComparison.Ordinal)
            || held.Problems != options.EvaluationProblems || held.SamplesPerProblem != options.EvaluationSamples)
            throw new OptionsValidationProblem(
                $"--out {options.Output} holds evaluations on {held.Dataset} ({held.Problems} problems × {held.SamplesPerProblem} samples), not on " +
                $"{options.EvaluationProblems} × {options.EvaluationSamples} of the {options.EvaluationSplit} split (--eval-split, --eval-problems, " +
                "--eval-samples): give this experiment its own --out.");
        return evaluation;
    }

    private async Task TrainAsync(PlannedRun plan, RunDirectory run, CancellationToken cancellationToken)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Trainer:Objective"] = plan.Objective,
            ["Trainer:Student"] = StudentModel,
            ["Trainer:RunDirectory"] = run.Path,
            ["Trainer:Device"] = options.Device,
            ["Trainer:Seed"] = plan.Seed.ToString(CultureInfo.InvariantCulture),
            ["Trainer:Resume"] = "true",
            ["Trainer:Threshold"] = ExperimentPlan.Number(plan.Threshold),
            ["Trainer:Steps"] = options.Steps.ToString(CultureInfo.InvariantCulture),
            ["Trainer:BatchSize"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["Trainer:GroupSize"] = options.GroupSize.ToString(CultureInfo.InvariantCulture),
            ["Trainer:LearningRate"] = plan.LearningRate.ToString(CultureInfo.InvariantCulture),
            ["Trainer:WarmupSteps"] = options.WarmupSteps.ToString(CultureInfo.InvariantCulture),
            ["Trainer:Temperature"] = options.Temperature.ToString(CultureInfo.InvariantCulture),
            ["Trainer:MaxNewTokens"] = options.MaxNewTokens.ToString(CultureInfo.InvariantCulture),
            ["Trainer:CheckpointEvery"] = options.CheckpointEvery.ToString(CultureInfo.InvariantCulture),
            ["Trainer:CostEstimator"] = KebabCaseEnum.Spelling(options.CostEstimator),
            ["TeacherClient:BaseAddress"] = teacher.ToString(),
        };
        foreach (var (key, value) in plan.TrainerFlags)
            settings[$"Trainer:{key}"] = value;

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddConsole().SetMinimumLevel(LogLevel.Warning))
            .AddMetrics();
        services.AddStudentTrainer(configuration);
        await using var provider = services.BuildServiceProvider();
        var trainerOptions = provider.GetRequiredService<IOptions<TrainerOptions>>().Value;
        if (trainerOptions.Validate() is { Count: > 0 } problems)
            throw new InvalidOperationException($"run {plan.Name}: {string.Join(" ", problems)}");

        var trainer = provider.GetRequiredService<PolicyTrainer>();
        trainer.StepCompleted += (metrics, steps) =>
        {
            if (metrics.Step % 10 != 0 && metrics.Step != steps) return;
            if (plan.IsSupervised)
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {plan.Name} step {metrics.Step}/{steps}: loss {metrics.Loss:0.000}, {metrics.StepSeconds:0.0} s/step"));
            else
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {plan.Name} step {metrics.Step}/{steps}: reward {metrics.Reward:0.000}, CSR {metrics.ConstraintSatisfactionRate:0.000}, KL {metrics.CostMean:0.00}, {metrics.StepSeconds:0.0} s/step"));
        };
        await trainer.RunAsync(cancellationToken);
    }

    public void Dispose()
    {
        evaluator.Dispose();
        startEvaluator.Dispose();
    }

    /// <summary>The verb of the models' teacher blind spot, from their <c>bootstrap.json</c>; null without one (or without the file).</summary>
    private static string? BlindSpotOf(string models) => Distill.StudentTrainer.Bootstrap.BootstrapCommand.ReadReport(models)?.BlindSpot?.Verb;

    /// <summary>The evaluator's services, set up once for the whole experiment: one held-out set for every checkpoint.</summary>
    private static IHost CreateEvaluator(ExperimentOptions options, Uri teacher, double? threshold)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Evaluator:Device"] = options.Device,
            ["Evaluator:Problems"] = options.EvaluationProblems.ToString(CultureInfo.InvariantCulture),
            ["Evaluator:Split"] = options.EvaluationSplit,
            ["Evaluator:SamplesPerProblem"] = options.EvaluationSamples.ToString(CultureInfo.InvariantCulture),
            // The constraint is about the policy as it samples in training, so held-out samples use the same temperature.
            ["Evaluator:Temperature"] = options.Temperature.ToString(CultureInfo.InvariantCulture),
            ["Evaluator:MaxNewTokens"] = options.MaxNewTokens.ToString(CultureInfo.InvariantCulture),
            ["Evaluator:TeacherCheckpoint"] = threshold is null ? null : Path.Combine(Path.GetFullPath(options.Models), "teacher"),
            ["Evaluator:OutputDirectory"] = Path.Combine(Path.GetFullPath(options.Output), "start"),
            ["Evaluator:Threshold"] = threshold is { } d ? ExperimentPlan.Number(d) : null,
            ["Evaluator:BlindSpot"] = BlindSpotOf(options.Models),
            ["TeacherClient:BaseAddress"] = teacher.ToString(),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.AddEvaluator();
        return builder.Build();
    }
}
