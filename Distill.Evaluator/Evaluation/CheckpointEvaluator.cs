using System.Diagnostics;
using Distill.Core.Contracts;
using Distill.Core.Divergence;
using Distill.Core.Generation;
using Distill.Core.Tasks;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator.Evaluation;

/// <summary>Which checkpoint to evaluate, under which constraint, and what to call it in reports.</summary>
public sealed record EvaluationTarget(string RunId, int Step, string CheckpointPath, ConstraintSettings Constraint);

/// <summary>
/// Evaluates one student checkpoint on the held-out set: greedy accuracy, sampled pass@1, and the sequence cost of every
/// sample to the teacher (the student's log-probs of its own sample against the teacher service's, through the shared
/// estimator and aggregation the run trained with), with the CSR at the run's threshold and over a sweep.
/// </summary>
public sealed class CheckpointEvaluator(
    ITeacherApi teacher,
    HeldOutSet heldOut,
    TeacherReference teacherReference,
    IOptions<EvaluatorOptions> options,
    ILogger<CheckpointEvaluator> logger)
{
    private readonly EvaluatorOptions settings = options.Value;

    public async Task<CheckpointEvaluation> EvaluateAsync(EvaluationTarget target, CancellationToken cancellationToken)
    {
        if (target.Constraint.Estimator == CostEstimator.TopKExact)
            throw new NotSupportedException(
                "top-k-exact needs the student's log-probs at the teacher's top-k ids, which the evaluator does not compute; pass --cost-estimator k1 or k3.");
        var clock = Stopwatch.StartNew();
        using var student = CheckpointModel.Load(target.CheckpointPath, settings.Device);
        await RequireSameTokenizerAsync(student, target, cancellationToken);

        var problems = heldOut.Problems;
        var prompts = problems.Select(problem => student.Tokenizer.Encode(PromptFormat.Render(problem.Question)).ToArray()).ToArray();
        logger.LogInformation("Evaluating {Run} step {Step}: {Problems} problems, greedy and {Samples} samples each",
            target.RunId, target.Step, problems.Count, settings.SamplesPerProblem);

        var greedy = student.Generate(prompts, temperature: 0, settings.MaxNewTokens, settings.Seed, settings.BatchSize, cancellationToken);
        // Problem-major: the samples of problem i are at i·n … i·n + n − 1.
        var samplePrompts = prompts.SelectMany(prompt => Enumerable.Repeat(prompt, settings.SamplesPerProblem)).ToArray();
        var samples = student.Generate(samplePrompts, (float)settings.Temperature, settings.MaxNewTokens, settings.Seed, settings.BatchSize, cancellationToken);
        var costs = await SequenceCostsAsync(samplePrompts, samples, target.Constraint, cancellationToken);

        var outcomes = problems.Select((problem, i) => new ProblemOutcome(
            AnswerChecker.IsCorrect(student.Decode(greedy[i]), problem.Answer),
            greedy[i].TokenIds.Length,
            Enumerable.Range(i * settings.SamplesPerProblem, settings.SamplesPerProblem)
                .Select(s => new SampledCompletion(AnswerChecker.IsCorrect(student.Decode(samples[s]), problem.Answer), samples[s].TokenIds.Length, costs[s]))
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

    /// <summary>The teacher scores token ids: they mean the same only when both sides tokenize alike.</summary>
    private async Task RequireSameTokenizerAsync(CheckpointModel student, EvaluationTarget target, CancellationToken cancellationToken)
    {
        var info = await teacher.GetTeacherAsync(cancellationToken);
        if (info.TokenizerFingerprint != student.Tokenizer.Fingerprint)
            throw new InvalidDataException(
                $"checkpoint {target.CheckpointPath}: its tokenizer ({student.Tokenizer.Fingerprint}) differs from the teacher's ({info.TokenizerFingerprint}); the teacher cannot score its samples.");
    }

    /// <summary>C of each sample from the student's log-probs of its sampled tokens and the teacher's; costs are computed, never trained on.</summary>
    private async Task<double[]> SequenceCostsAsync(
        IReadOnlyList<int[]> prompts, IReadOnlyList<GeneratedCompletion> completions, ConstraintSettings constraint, CancellationToken cancellationToken)
    {
        var costs = new double[completions.Count];
        for (var start = 0; start < completions.Count; start += settings.BatchSize)
        {
            var indices = Enumerable.Range(start, Math.Min(settings.BatchSize, completions.Count - start)).ToArray();
            var request = new ScoreRequest([.. indices.Select(i => new ScoreSequence(prompts[i], completions[i].TokenIds))]);
            var response = await teacher.ScoreAsync(request, cancellationToken);
            foreach (var (i, scores) in indices.Zip(response.Sequences))
            {
                var tokenCosts = TokenCosts.Compute(constraint.Estimator, new TokenCostInputs(completions[i].LogProbs, scores.LogProbs));
                costs[i] = SequenceCost.Aggregate(tokenCosts, constraint.Aggregation);
            }
        }
        return costs;
    }
}
