using System.Diagnostics;
using Distill.Core.Divergence;
using Distill.Core.Scoring;
using Distill.Core.Tasks;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator.Evaluation;

/// <summary>Which checkpoint to evaluate, under which constraint, and what to call it in reports.</summary>
public sealed record EvaluationTarget(string RunId, int Step, string CheckpointPath, ConstraintSettings Constraint);

/// <summary>
/// Evaluates one student checkpoint on the held-out set: greedy accuracy, sampled pass@1, and the sequence cost of every
/// sample to the teacher (the student's log-probs of its own sample against the teacher's, through the same estimator
/// and aggregation as the trainer), with the CSR at the run's threshold and over a sweep.
/// </summary>
public sealed class CheckpointEvaluator(
    [FromKeyedServices(CheckpointEvaluator.TeacherScorerKey)] ISequenceScorer teacher,
    ICheckpointModelLoader models,
    HeldOutSet heldOut,
    TeacherReference teacherReference,
    IOptions<EvaluatorOptions> options,
    ILogger<CheckpointEvaluator> logger)
{
    /// <summary>The DI key of the scorer that gives the teacher's log-probs (the teacher service).</summary>
    public const string TeacherScorerKey = "teacher";

    private readonly EvaluatorOptions settings = options.Value;

    public async Task<CheckpointEvaluation> EvaluateAsync(EvaluationTarget target, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var student = models.Load(target.CheckpointPath);
        if (student.Tokenizer.VocabularySize > teacher.VocabularySize)
            throw new InvalidDataException(
                $"{target.CheckpointPath}: the student's vocabulary ({student.Tokenizer.VocabularySize} tokens) is larger than the teacher's ({teacher.VocabularySize}); the teacher cannot score its samples.");

        var problems = heldOut.Problems;
        var prompts = problems.Select(problem => student.Tokenizer.Encode(PromptFormat.Render(problem.Question)).ToArray()).ToArray();
        logger.LogInformation("Evaluating {Run} step {Step}: {Problems} problems, greedy and {Samples} samples each",
            target.RunId, target.Step, problems.Count, settings.SamplesPerProblem);

        var greedy = await student.GenerateAsync(prompts, Decoding.Greedy, settings.MaxNewTokens, settings.Seed, settings.BatchSize, cancellationToken);
        // Problem-major: the samples of problem i are at i·n … i·n + n − 1.
        var samplePrompts = prompts.SelectMany(prompt => Enumerable.Repeat(prompt, settings.SamplesPerProblem)).ToArray();
        var samples = await student.GenerateAsync(samplePrompts, Decoding.Sampled(settings.Temperature), settings.MaxNewTokens, settings.Seed, settings.BatchSize, cancellationToken);
        var costs = await SequenceCostsAsync(student, samplePrompts, samples, target.Constraint, cancellationToken);

        var outcomes = problems.Select((problem, i) => new ProblemOutcome(
            AnswerChecker.IsCorrect(student.Tokenizer.Decode(greedy[i]), problem.Answer),
            greedy[i].Length,
            Enumerable.Range(i * settings.SamplesPerProblem, settings.SamplesPerProblem)
                .Select(s => new SampledCompletion(AnswerChecker.IsCorrect(student.Tokenizer.Decode(samples[s]), problem.Answer), samples[s].Length, costs[s]))
                .ToArray())).ToArray();

        var threshold = target.Constraint.Threshold;
        var metrics = MetricsAggregation.Summarize(outcomes, threshold, settings.SweepFor(threshold),
            await teacherReference.AccuracyAsync(cancellationToken));
        return new CheckpointEvaluation(
            target.RunId,
            target.Step,
            target.CheckpointPath,
            target.Constraint,
            new HeldOutSettings(heldOut.Name, problems.Count, settings.SamplesPerProblem, settings.Temperature, settings.MaxNewTokens, settings.Seed),
            metrics,
            costs,
            DateTimeOffset.UtcNow,
            clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// C of each sample: per-token costs from the student's and the teacher's log-probs of the sampled tokens (and, for
    /// top-k exact, the teacher's top-k candidates), aggregated as the run does. Costs are computed, never trained on.
    /// </summary>
    private async Task<double[]> SequenceCostsAsync(
        ICheckpointModel student, IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, ConstraintSettings constraint, CancellationToken cancellationToken)
    {
        var costs = new double[completions.Count];
        var topK = constraint.Estimator == CostEstimator.TopKExact ? settings.TopK : 0;
        for (var start = 0; start < completions.Count; start += settings.BatchSize)
        {
            var batch = Enumerable.Range(start, Math.Min(settings.BatchSize, completions.Count - start))
                .Select(i => new ScoringItem(prompts[i], completions[i])).ToArray();
            var teacherScores = await teacher.ScoreAsync(batch, topK, cancellationToken);
            var studentScores = await student.Scorer.ScoreAsync(batch, 0, cancellationToken);
            for (var i = 0; i < batch.Length; i++)
            {
                var inputs = new TokenCostInputs(studentScores[i].LogProbs, teacherScores[i].LogProbs);
                if (topK > 0)
                    inputs = inputs with
                    {
                        TeacherTopKLogProbs = [.. teacherScores[i].TopK!.Select(position => position.Select(candidate => candidate.LogProb).ToArray())],
                        StudentLogProbsAtTeacherTopK = await student.LogProbsAtAsync(batch[i], teacherScores[i].TopK!, cancellationToken),
                    };
                costs[start + i] = SequenceCost.Aggregate(TokenCosts.Compute(constraint.Estimator, inputs), constraint.Aggregation);
            }
        }
        return costs;
    }
}
