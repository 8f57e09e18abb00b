using System.Diagnostics;
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
public sealed class PolicyTrainer(IOptions<TrainerOptions> settings, TeacherScoring teacher, TrainerTelemetry telemetry,
    ILogger<PolicyTrainer> logger)
{
    private readonly TrainerOptions options = settings.Value;

    /// <summary>Raised after every step, for progress display.</summary>
    public event Action<TrainingStepMetrics, int>? StepCompleted;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var run = new RunDirectory(options.RunDirectory);
        // Held until the run ends (or this process dies): a second trainer in this directory is refused.
        using var runLock = RunLock.Acquire(run);
        var checkpoints = new TrainingCheckpoints(run, logger);
        var device = TorchDevice.Resolve(options.Device);
        var tokenizer = TokenizerLoader.Load(options.Student!);
        var objective = TrainingObjectiveFactory.Create(options.Objective, options.ToObjectiveOptions());
        var estimator = objective is SftObjective ? CostEstimator.K1 : options.ToObjectiveOptions().Estimator;

        var teacherInfo = await teacher.DescribeAsync(cancellationToken);
        if (teacherInfo.TokenizerFingerprint != tokenizer.Fingerprint)
            throw new TrainingStartupException(
                $"the teacher '{teacherInfo.ModelId}' tokenizes differently from the student in {options.Student} " +
                $"(tokenizer fingerprints {teacherInfo.TokenizerFingerprint[..12]}… and {tokenizer.Fingerprint[..12]}…): " +
                "per-token costs would compare different tokens. Use a student and a teacher with the same tokenizer.");

        var prompts = await PromptSource.LoadAsync(options.Dataset, options.Seed, cancellationToken);
        var latest = new RunResumption(run, options, checkpoints, logger).Prepare(objective.Name);

        var modelPath = latest is null ? options.Student! : checkpoints.PathOf(latest);
        var (_, model) = ModelCheckpoint.Load(modelPath, device);
        using var modelDisposal = model;
        using var optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        int firstStep = 1;
        if (latest is not null)
        {
            var state = TrainingCheckpoints.ReadState(modelPath);
            TrainingCheckpoints.RestoreOptimizer(modelPath, optimizer);
            objective.Restore(state.Objective);
            firstStep = state.Step + 1;
            logger.LogInformation("Resuming {Run} from the checkpoint of step {Step}.", run.Path, state.Step);
        }
        else
        {
            Directory.CreateDirectory(run.Path);
            RunDirectory.WriteJsonAtomically(run.ManifestPath, new RunManifest(Path.GetFileName(run.Path), objective.Name,
                options.Threshold!.Value, options.CostEstimator, options.CostAggregation, options.BudgetScope, options.Seed,
                Path.GetFullPath(options.Student!), teacherInfo.ModelId, options.Dataset, options.Steps, DateTimeOffset.UtcNow));
        }

        if (firstStep > options.Steps)
            logger.LogInformation("Run {Run} has already trained all {Steps} steps; nothing to train.", run.Path, options.Steps);
        else
            logger.LogInformation("Training {Objective} for steps {First}..{Last} on {Device}; d = {Threshold}; {Problems} problems.",
                objective.Name, firstStep, options.Steps, device.type, options.Threshold, prompts.Count);
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

            if (step % options.CheckpointEvery == 0 || step == options.Steps)
                checkpoints.Save(step, model, tokenizer, optimizer,
                    new TrainerState(step, objective.State, (long)step * options.BatchSize, options.Seed));
        }
        if (run.VerifyMetrics(options.Steps) is { Count: > 0 } metricsProblems)
            throw new InvalidDataException($"{run.MetricsPath} does not hold every step 1..{options.Steps} exactly once " +
                $"({string.Join("; ", metricsProblems)}); the run is not marked completed.");
        RunDirectory.WriteJsonAtomically(run.CompletedPath, new { steps = options.Steps, completedAt = DateTimeOffset.UtcNow });
        logger.LogInformation("Run {Run} completed after {Steps} steps.", run.Path, options.Steps);
    }

    private async Task<TrainingStepMetrics> StepAsync(int step, LlamaForCausalLM model, ISavableTokenizer tokenizer, AdamW optimizer,
        ITrainingObjective objective, CostEstimator estimator, PromptSource prompts, CancellationToken cancellationToken)
    {
        using var span = TrainerTelemetry.Source.StartActivity("trainer.step");
        span?.SetTag("trainer.step", step);
        var clock = Stopwatch.StartNew();
        var problems = prompts.Batch(step, options.BatchSize);
        var promptIds = problems.Select(p => tokenizer.Encode(PromptFormat.Render(p.Question)).ToArray()).ToArray();

        if (objective.IsSupervised)
            return SupervisedStep(step, model, tokenizer, optimizer, problems, promptIds, clock);

        // 1. Generate G completions per prompt with the current policy.
        int groupSize = options.GroupSize;
        var generationPrompts = promptIds.SelectMany(p => Enumerable.Repeat(p, groupSize)).ToArray();
        IReadOnlyList<GeneratedCompletion> completions;
        var generationClock = Stopwatch.StartNew();
        using (TrainerTelemetry.Source.StartActivity("trainer.generate"))
        using (no_grad())
        {
            model.eval();
            completions = new CompletionGenerator(model).Generate(generationPrompts, tokenizer.PadTokenId, new SamplingOptions
            {
                MaxNewTokens = options.MaxNewTokens,
                Temperature = (float)options.Temperature,
                TopP = (float)options.TopP,
                StopTokenIds = [tokenizer.EosTokenId],
                // The step decides the seed, so a resumed run samples exactly what an uninterrupted one would.
                Seed = (long)options.Seed * 1_000_003 + step,
            }, cancellationToken);
        }
        generationClock.Stop();
        var items = generationPrompts.Select((prompt, i) => new ScoringItem(prompt, completions[i].TokenIds)).ToArray();

        // 2. The teacher's log-probs of the same tokens (waits while the teacher is unavailable).
        int topK = estimator == CostEstimator.TopKExact ? options.TopK : 0;
        TeacherScores scores;
        var teacherClock = Stopwatch.StartNew();
        using (TrainerTelemetry.Source.StartActivity("trainer.teacher_score"))
            scores = await teacher.ScoreAsync(items, topK, cancellationToken);
        teacherClock.Stop();

        // 3. Rewards, costs, shaped rewards and advantages; then the policy-gradient update.
        using var updateSpan = TrainerTelemetry.Source.StartActivity("trainer.update");
        var updateClock = Stopwatch.StartNew();
        model.train();
        double loss = 0, entropy = 0;
        double[] sequenceCosts = [];
        IReadOnlyList<ShapedSample> shaped = [];
        var references = problems.SelectMany(p => Enumerable.Repeat(p.Answer, groupSize)).ToArray();
        var texts = completions.Select(c => tokenizer.Decode(c.TokenIds)).ToArray();
        var rewards = texts.Select((text, i) => AnswerChecker.IsCorrect(text, references[i]) ? 1.0 : 0.0).ToArray();
        var taskReward = new TaskReward(options.FormatBonus);
        Tensor? oldLogProbs = null, advantages = null;
        try
        {
            for (int epoch = 0; epoch < options.InnerEpochs; epoch++)
            {
                using var scope = NewDisposeScope();
                var candidates = epoch == 0 && topK > 0
                    ? scores.Sequences.Select(s => s.TopK!.Select(position => position.Select(c => c.TokenId).ToArray()).ToArray()).ToArray()
                    : null;
                using var student = CompletionLogProbs.Compute(model, items, withEntropy: epoch == 0, candidates);
                if (epoch == 0)
                {
                    // π_θold is the policy that sampled: its log-probs are this first forward, detached.
                    oldLogProbs = student.LogProbs.detach().DetachFromDisposeScope();
                    entropy = MeanOverTokens(student.Entropy!, student.Mask);
                    var signal = Shape(objective, estimator, groupSize, items, rewards, completions, student, scores, tokenizer);
                    sequenceCosts = signal.SelectMany(g => g.Samples).Select(s => s.SequenceCost).ToArray();
                    shaped = signal.SelectMany(g => g.Samples).ToArray();
                    advantages = Pad(signal.SelectMany(g => g.TokenAdvantages).ToArray(), student.Mask).DetachFromDisposeScope();
                }
                var objectiveLoss = PolicyGradientLoss.Compute(student.LogProbs, oldLogProbs!, advantages!, student.Mask, options.ClipEpsilon);
                optimizer.zero_grad();
                objectiveLoss.backward();
                nn.utils.clip_grad_norm_(model.parameters(), options.MaxGradNorm);
                optimizer.step();
                loss = objectiveLoss.item<float>();
            }
        }
        finally
        {
            oldLogProbs?.Dispose();
            advantages?.Dispose();
        }
        objective.ObserveStep(sequenceCosts.Average());
        updateClock.Stop();
        clock.Stop();

        int generatedTokens = completions.Sum(c => c.TokenIds.Length);
        return new TrainingStepMetrics(
            Step: step,
            Reward: texts.Select((text, i) => taskReward.Score(text, references[i])).Average(),
            Accuracy: rewards.Average(),
            CostMean: CostStatistics.Mean(sequenceCosts),
            CostP90: CostStatistics.P90(sequenceCosts),
            ConstraintSatisfactionRate: ConstraintSatisfactionRate.At(sequenceCosts, options.Threshold!.Value),
            ViolationRate: shaped.Count(s => s.Violated) / (double)shaped.Count,
            Lambda: objective is LagrangianObjective lagrangian ? lagrangian.Lambda : null,
            ShapedRewardMean: shaped.Average(s => s.ShapedReward),
            Entropy: entropy,
            ResponseLength: completions.Average(c => c.TokenIds.Length),
            GeneratedTokensPerSecond: generatedTokens / Math.Max(generationClock.Elapsed.TotalSeconds, 1e-9),
            TeacherLatencyMs: scores.Latency.TotalMilliseconds,
            CacheHitRatio: scores.CacheHitRatio,
            Loss: loss,
            StepSeconds: clock.Elapsed.TotalSeconds,
            Time: DateTimeOffset.UtcNow,
            GenerationSeconds: generationClock.Elapsed.TotalSeconds,
            TeacherSeconds: teacherClock.Elapsed.TotalSeconds,
            UpdateSeconds: updateClock.Elapsed.TotalSeconds);
    }

    private static GroupSignal[] Shape(ITrainingObjective objective, CostEstimator estimator, int groupSize, ScoringItem[] items, double[] rewards,
        IReadOnlyList<GeneratedCompletion> completions, CompletionLogProbs student, TeacherScores scores, ITextTokenizer tokenizer)
    {
        using var studentLogProbs = student.LogProbs.detach().cpu();
        int width = (int)studentLogProbs.shape[1];
        var all = studentLogProbs.data<float>().ToArray();
        var outcomes = items.Select((item, i) =>
        {
            var own = all.AsSpan(i * width, item.CompletionTokenIds.Length).ToArray();
            var teacherScores = scores.Sequences[i];
            var inputs = new TokenCostInputs(own, teacherScores.LogProbs, student.CandidateLogProbs?[i],
                teacherScores.TopK?.Select(position => position.Select(c => c.LogProb).ToArray()).ToArray());
            bool hasMarker = AnswerChecker.HasFinalAnswerMarker(tokenizer.Decode(completions[i].TokenIds));
            return new SampleOutcome(rewards[i], hasMarker, TokenCosts.Compute(estimator, inputs));
        }).ToArray();
        // Samples of one prompt are consecutive: each chunk of G is one group.
        return outcomes.Chunk(groupSize).Select(objective.ShapeGroup).ToArray();
    }

    private TrainingStepMetrics SupervisedStep(int step, LlamaForCausalLM model, ISavableTokenizer tokenizer, AdamW optimizer,
        IReadOnlyList<MathProblem> problems, int[][] promptIds, Stopwatch clock)
    {
        var items = problems.Select((p, i) => new ScoringItem(promptIds[i], PromptFormat.Encode(tokenizer, p).CompletionIds.ToArray())).ToArray();
        double loss = SupervisedFineTuning.Step(model, optimizer, items, options.MaxGradNorm);
        clock.Stop();
        // Supervised steps sample nothing and ask the teacher nothing: only the loss and the length are measured.
        return new TrainingStepMetrics(step, Reward: 0, Accuracy: 0, CostMean: 0, CostP90: 0, ConstraintSatisfactionRate: 0,
            ViolationRate: 0, Lambda: null, ShapedRewardMean: 0, Entropy: 0, ResponseLength: items.Average(i => i.CompletionTokenIds.Length),
            GeneratedTokensPerSecond: 0, TeacherLatencyMs: 0, CacheHitRatio: 0, Loss: loss,
            StepSeconds: clock.Elapsed.TotalSeconds, Time: DateTimeOffset.UtcNow);
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
