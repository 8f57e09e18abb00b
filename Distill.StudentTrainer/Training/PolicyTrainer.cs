using System.Diagnostics;
using Distill.Core.Contracts;
using Distill.Core.Divergence;
using Distill.Core.Generation;
using Distill.Core.Modeling;
using Distill.Core.Runs;
using Distill.Core.Scoring;
using Distill.Core.Tasks;
using Distill.Core.Tokenization;
using Distill.Core.Torch;
using Distill.StudentTrainer.Objectives;
using Microsoft.Extensions.Options;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.StudentTrainer.Training;

/// <summary>A run that cannot start as configured (the message says why and names the flag or file).</summary>
public sealed class TrainingStartupException(string message) : Exception(message);

/// <summary>
/// The on-policy loop: sample prompts, generate G completions each with the student, score them under the teacher,
/// turn rewards and per-token costs into shaped rewards and advantages (the objective), take a policy-gradient step;
/// log metrics, checkpoint every N steps, resume from the last checkpoint.
/// </summary>
public sealed class PolicyTrainer(IOptions<TrainerOptions> settings, TeacherClient teacher, TrainerTelemetry telemetry,
    CheckpointRequests checkpointRequests, ILogger<PolicyTrainer> logger)
{
    private readonly TrainerOptions options = settings.Value;

    /// <summary>Raised after every step, for progress display.</summary>
    public event Action<TrainingStepMetrics, int>? StepCompleted;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var run = new RunDirectory(options.RunDirectory);
        var checkpoints = new TrainingCheckpoints(run, logger);
        var device = TorchDevice.Resolve(options.Device);
        var tokenizer = TokenizerLoader.Load(options.Student!);
        // sft has no objective to shape rewards with: it gets the supervised update.
        var objective = TrainingObjectiveFactory.IsSupervised(options.Objective) ? null
            : TrainingObjectiveFactory.Create(options.Objective, options.ObjectiveOptions);
        var estimator = options.ObjectiveOptions.Estimator;

        TeacherInfo teacherInfo;
        try
        {
            teacherInfo = await teacher.ConnectAsync(tokenizer, options.Student!, cancellationToken);
        }
        catch (TokenizerMismatchException mismatch)
        {
            throw new TrainingStartupException(mismatch.Message);
        }
        // Refused here, not at the first step's scoring call: a vLLM teacher answers at most its --max-logprobs, and a
        // large vocabulary's whole distribution is not sent at all.
        int teacherTopK = estimator.TeacherTopK(options.ObjectiveOptions.TopK, tokenizer.VocabularySize);
        if (objective is not null && teacherTopK > teacherInfo.MaxTopK)
            throw new TrainingStartupException(estimator == CostEstimator.Exact
                ? $"--cost-estimator exact needs the teacher's whole distribution ({teacherTopK} candidates per token), but the teacher " +
                  $"'{teacherInfo.ModelId}' returns at most {teacherInfo.MaxTopK}: use --cost-estimator top-k-exact with --top-k of at most that."
                : $"--top-k {options.ObjectiveOptions.TopK} is more than the teacher '{teacherInfo.ModelId}' returns: at most {teacherInfo.MaxTopK} " +
                  "candidates per token (a vLLM teacher returns more when started with a larger --max-logprobs).");

        var prompts = await PromptSource.LoadAsync(options.Dataset, options.Seed, cancellationToken);
        // Held until the run ends (or this process dies): a second trainer in this directory is refused. Taken after the
        // checks above, which write nothing, so a run refused at start leaves no directory behind.
        using var runLock = RunLock.Acquire(run);
        var latest = new RunResumption(run, options, checkpoints, logger).Prepare(options.Objective.Trim().ToLowerInvariant());

        var modelPath = latest is null ? options.Student! : checkpoints.PathOf(latest);
        var (_, model) = ModelCheckpoint.Load(modelPath, device);
        using var modelDisposal = model;
        using var optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        int firstStep = 1;
        if (latest is not null)
        {
            var state = TrainingCheckpoints.ReadState(modelPath);
            TrainingCheckpoints.RestoreOptimizer(modelPath, optimizer);
            objective?.Restore(state.Objective);
            firstStep = state.Step + 1;
            logger.LogInformation("Resuming {Run} from the checkpoint of step {Step}.", run.Path, state.Step);
        }
        else
        {
            Directory.CreateDirectory(run.Path);
            RunDirectory.WriteJsonAtomically(run.ManifestPath, new RunManifest(Path.GetFileName(run.Path), options.Objective.Trim().ToLowerInvariant(),
                options.ObjectiveOptions.Threshold, estimator, options.ObjectiveOptions.Aggregation, options.ObjectiveOptions.Scope, options.Seed,
                Path.GetFullPath(options.Student!), teacherInfo.ModelId, options.Dataset, options.Steps, DateTimeOffset.UtcNow,
                options.Temperature));
        }

        if (firstStep > options.Steps)
            logger.LogInformation("Run {Run} has already trained all {Steps} steps; nothing to train.", run.Path, options.Steps);
        else
            logger.LogInformation("Training {Objective} for steps {First}..{Last} on {Device}; d = {Threshold}; {Problems} problems.",
                options.Objective, firstStep, options.Steps, device.type, options.ObjectiveOptions.Threshold, prompts.Count);
        for (int step = firstStep; step <= options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A function of the step alone, so a resumed run continues the same schedule.
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = options.LearningRateAt(step);
            var metrics = await StepAsync(step, model, tokenizer, optimizer, objective, estimator, prompts, cancellationToken);
            RunDirectory.AppendJsonLine(run.MetricsPath, metrics);
            telemetry.Record(metrics);
            StepCompleted?.Invoke(metrics, options.Steps);

            if (step % options.CheckpointEvery == 0 || step == options.Steps || checkpointRequests.TryTake(step))
                checkpoints.Save(step, model, tokenizer, optimizer,
                    new TrainerState(step, objective?.State ?? ObjectiveState.Stateless, options.Seed));
        }
        if (run.VerifyMetrics(options.Steps) is { Count: > 0 } metricsProblems)
            throw new InvalidDataException($"{run.MetricsPath} does not hold every step 1..{options.Steps} exactly once " +
                $"({string.Join("; ", metricsProblems)}); the run is not marked completed.");
        RunDirectory.WriteJsonAtomically(run.CompletedPath, new { steps = options.Steps, completedAt = DateTimeOffset.UtcNow });
        logger.LogInformation("Run {Run} completed after {Steps} steps.", run.Path, options.Steps);
    }

    private async Task<TrainingStepMetrics> StepAsync(int step, LlamaForCausalLM model, ISavableTokenizer tokenizer, AdamW optimizer,
        ITrainingObjective? objective, CostEstimator estimator, PromptSource prompts, CancellationToken cancellationToken)
    {
        using var span = TrainerTelemetry.Source.StartActivity("trainer.step");
        span?.SetTag("trainer.step", step);
        var clock = Stopwatch.StartNew();
        var problems = prompts.Batch(step, options.BatchSize);
        var promptIds = problems.Select(p => tokenizer.Encode(PromptFormat.Render(p.Question)).ToArray()).ToArray();

        if (objective is null)
            return SupervisedStep(step, model, tokenizer, optimizer, problems, promptIds, clock);

        var rollout = Rollout(step, model, tokenizer, promptIds, cancellationToken);
        var scored = await ScoreAsync(rollout, problems, tokenizer, estimator, cancellationToken);
        var update = Update(model, optimizer, objective, estimator, rollout, scored, tokenizer.VocabularySize);
        clock.Stop();

        var shaped = update.Shaped;
        var costs = shaped.Select(s => s.SequenceCost).ToArray();
        var taskReward = new TaskReward(options.ObjectiveOptions.FormatBonus);
        int generatedTokens = rollout.Completions.Sum(c => c.TokenIds.Length);
        return new TrainingStepMetrics(
            Step: step,
            Reward: scored.Grades.Average(taskReward.Score),
            Accuracy: scored.Grades.Average(grade => grade.Reward),
            CostMean: CostStatistics.Mean(costs),
            CostP90: CostStatistics.P90(costs),
            ConstraintSatisfactionRate: ConstraintSatisfactionRate.At(costs, options.ObjectiveOptions.Threshold),
            ViolationRate: shaped.Count(s => s.Violated) / (double)shaped.Count,
            Lambda: objective.Lambda,
            ShapedRewardMean: shaped.Average(s => s.ShapedReward),
            Entropy: update.Entropy,
            ResponseLength: rollout.Completions.Average(c => c.TokenIds.Length),
            GeneratedTokensPerSecond: generatedTokens / Math.Max(rollout.Seconds, 1e-9),
            TeacherLatencyMs: scored.Teacher.Latency.TotalMilliseconds,
            CacheHitRatio: scored.Teacher.CacheHitRatio,
            Loss: update.Loss,
            StepSeconds: clock.Elapsed.TotalSeconds,
            Time: DateTimeOffset.UtcNow,
            GenerationSeconds: rollout.Seconds,
            TeacherSeconds: scored.Seconds,
            UpdateSeconds: update.Seconds,
            EqualRewardGroupShare: update.EqualRewardGroupShare,
            WholeGroupViolationShare: update.WholeGroupViolationShare,
            SplitViolationGroupShare: update.SplitViolationGroupShare,
            GradientNorm: update.GradientNorm);
    }

    /// <summary>What the rollout stage sampled: G completions per prompt (a prompt's samples are consecutive).</summary>
    private sealed record RolloutBatch(ScoringItem[] Items, IReadOnlyList<GeneratedCompletion> Completions, double Seconds);

    /// <summary>What the scoring stage added: the teacher's scores and each sample's answer, checked once.</summary>
    private sealed record ScoredBatch(TeacherScores Teacher, CompletionGrade[] Grades, double Seconds);

    /// <summary>What the update stage made of it.</summary>
    private sealed record UpdateResult(IReadOnlyList<ShapedSample> Shaped, double Loss, double GradientNorm, double Entropy, double EqualRewardGroupShare,
        double WholeGroupViolationShare, double SplitViolationGroupShare, double Seconds);

    /// <summary>Stage 1: G completions per prompt from the current policy, sampled at τ over the tokenizer's ids.</summary>
    private RolloutBatch Rollout(int step, LlamaForCausalLM model, ISavableTokenizer tokenizer, int[][] promptIds, CancellationToken cancellationToken)
    {
        using var span = TrainerTelemetry.Source.StartActivity("trainer.generate");
        var clock = Stopwatch.StartNew();
        var prompts = promptIds.SelectMany(p => Enumerable.Repeat(p, options.GroupSize)).ToArray();
        IReadOnlyList<GeneratedCompletion> completions;
        using (no_grad())
        {
            model.eval();
            completions = new CompletionGenerator(model).Generate(prompts, tokenizer.PadTokenId, Sampling(step, tokenizer), cancellationToken);
        }
        return new RolloutBatch(prompts.Select((prompt, i) => new ScoringItem(prompt, completions[i].TokenIds)).ToArray(), completions,
            clock.Elapsed.TotalSeconds);
    }

    private SamplingOptions Sampling(int step, ITextTokenizer tokenizer) => new()
    {
        MaxNewTokens = options.MaxNewTokens,
        Temperature = (float)options.Temperature,
        TopP = (float)options.TopP,
        StopTokenIds = [tokenizer.EosTokenId],
        VocabularyLimit = tokenizer.VocabularySize,
        // The step decides the seed, so a resumed run samples exactly what an uninterrupted one would.
        Seed = (long)options.Seed * 1_000_003 + step,
    };

    /// <summary>Stage 2: the teacher's log-probs of the same tokens (waits while the teacher is unavailable), and each answer checked once.</summary>
    private async Task<ScoredBatch> ScoreAsync(RolloutBatch rollout, IReadOnlyList<MathProblem> problems, ITextTokenizer tokenizer,
        CostEstimator estimator, CancellationToken cancellationToken)
    {
        using var span = TrainerTelemetry.Source.StartActivity("trainer.teacher_score");
        var clock = Stopwatch.StartNew();
        var teacherScores = await teacher.ScoreAsync(rollout.Items, estimator.TeacherTopK(options.ObjectiveOptions.TopK, tokenizer.VocabularySize), cancellationToken);
        var grades = rollout.Completions.Select((completion, i) =>
            CompletionGrade.Of(tokenizer, completion.TokenIds, problems[i / options.GroupSize].Answer)).ToArray();
        return new ScoredBatch(teacherScores, grades, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Stage 3: the policy's log-probs under the sampler (τ, the tokenizer's ids), the per-token costs to the teacher,
    /// the objective's shaped returns, advantages over the batch, and the policy-gradient step(s).
    /// </summary>
    private UpdateResult Update(LlamaForCausalLM model, AdamW optimizer, ITrainingObjective objective, CostEstimator estimator,
        RolloutBatch rollout, ScoredBatch scored, int vocabularyLimit)
    {
        using var span = TrainerTelemetry.Source.StartActivity("trainer.update");
        var clock = Stopwatch.StartNew();
        var policy = SamplerPolicy.Of(options.Temperature, vocabularyLimit);
        var items = rollout.Items;
        model.train();
        double loss = 0, gradientNorm = 0, entropy = 0, equalShare = 0, wholeGroupViolations = 0, splitGroups = 0;
        IReadOnlyList<ShapedSample> shaped = [];
        Tensor? oldLogProbs = null, advantages = null;
        try
        {
            for (int epoch = 0; epoch < options.InnerEpochs; epoch++)
            {
                using var scope = NewDisposeScope();
                var candidates = epoch == 0 ? CompletionCosts.CandidateIds(scored.Teacher.Sequences, estimator, vocabularyLimit) : null;
                using var student = CompletionLogProbs.Compute(model, items, policy, withEntropy: epoch == 0, candidates);
                if (epoch == 0)
                {
                    // π_θold is the policy that sampled: its log-probs are this first forward, detached.
                    oldLogProbs = student.LogProbs.detach().DetachFromDisposeScope();
                    entropy = MeanOverTokens(student.Entropy!, student.Mask);
                    var tokenCosts = CompletionCosts.Compute(estimator, items, CompletionCosts.PerItem(student, items),
                        student.CandidateLogProbs, scored.Teacher.Sequences, vocabularyLimit);
                    var outcomes = tokenCosts.Select((costs, i) => new SampleOutcome(scored.Grades[i].Reward, scored.Grades[i].HasFinalAnswer, costs))
                        .Chunk(options.GroupSize).ToArray();
                    var groups = outcomes.Select(objective.ShapeGroup).ToArray();
                    shaped = groups.SelectMany(group => group).ToArray();
                    equalShare = Advantages.EqualTaskRewardShare(outcomes);
                    wholeGroupViolations = Advantages.WholeGroupViolationShare(groups);
                    splitGroups = Advantages.SplitViolationGroupShare(groups);
                    var tokenAdvantages = Advantages.Compute(groups, options.ObjectiveOptions.Advantage).SelectMany(group => group).ToArray();
                    advantages = Pad(tokenAdvantages, student.Mask).DetachFromDisposeScope();
                }
                var objectiveLoss = PolicyGradientLoss.Compute(student.LogProbs, oldLogProbs!, advantages!, student.Mask, options.ObjectiveOptions.ClipEpsilon);
                double norm = GradientStep.Take(model, optimizer, objectiveLoss, options.MaxGradNorm);
                // The first epoch's gradient is the on-policy one; later epochs reuse its samples.
                if (epoch == 0) gradientNorm = norm;
                loss = objectiveLoss.item<float>();
            }
        }
        finally
        {
            oldLogProbs?.Dispose();
            advantages?.Dispose();
        }
        objective.ObserveStep(new ConstraintObservation(shaped.Average(s => s.SequenceCost), shaped.Count(s => s.Violated) / (double)shaped.Count));
        return new UpdateResult(shaped, loss, gradientNorm, entropy, equalShare, wholeGroupViolations, splitGroups, clock.Elapsed.TotalSeconds);
    }

    private TrainingStepMetrics SupervisedStep(int step, LlamaForCausalLM model, ISavableTokenizer tokenizer, AdamW optimizer,
        IReadOnlyList<MathProblem> problems, int[][] promptIds, Stopwatch clock)
    {
        var items = problems.Select((p, i) => new ScoringItem(promptIds[i], PromptFormat.Encode(tokenizer, p).CompletionIds.ToArray())).ToArray();
        var (loss, gradientNorm) = SupervisedFineTuning.Step(model, optimizer, items, options.MaxGradNorm);
        clock.Stop();
        // Supervised steps sample nothing and ask the teacher nothing: only the loss and the length are measured.
        return new TrainingStepMetrics(step, Reward: 0, Accuracy: 0, CostMean: 0, CostP90: 0, ConstraintSatisfactionRate: 0,
            ViolationRate: 0, Lambda: null, ShapedRewardMean: 0, Entropy: 0, ResponseLength: items.Average(i => i.CompletionTokenIds.Length),
            GeneratedTokensPerSecond: 0, TeacherLatencyMs: 0, CacheHitRatio: 0, Loss: loss,
            StepSeconds: clock.Elapsed.TotalSeconds, Time: DateTimeOffset.UtcNow, GradientNorm: gradientNorm);
    }

    private static double MeanOverTokens(Tensor values, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var weights = mask.to(values.dtype);
        return (values * weights).sum().item<float>() / Math.Max(1.0, weights.sum().item<float>());
    }

    /// <summary>Per-token advantages as a [B, T] tensor shaped like the mask (zeros past each completion).</summary>
    private static Tensor Pad(IReadOnlyList<double[]> tokenAdvantages, Tensor mask)
    {
        int rows = (int)mask.shape[0], width = (int)mask.shape[1];
        var values = new float[rows * width];
        for (int row = 0; row < rows; row++)
            for (int t = 0; t < tokenAdvantages[row].Length; t++)
                values[row * width + t] = (float)tokenAdvantages[row][t];
        return tensor(values, device: mask.device).reshape(rows, width);
    }
}
