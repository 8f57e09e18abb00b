using System.Diagnostics;
using Distill.Core.Contracts;
using Distill.Core.Divergence;
using Distill.Core.Generation;
using Distill.Core.Scoring;
using Distill.Core.Tasks;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator.Evaluation;

/// <summary>
/// Which checkpoint to evaluate, under which constraint, and what to call it in reports. <see cref="Temperature"/> is
/// the τ the samples are drawn and scored at; <see cref="RequestedEstimator"/>, when set, forces a cost estimator
/// instead of the lowest-variance one the teacher allows.
/// </summary>
public sealed record EvaluationTarget(string RunId, int Step, string CheckpointPath, ConstraintSettings Constraint, double Temperature,
    CostEstimator? RequestedEstimator = null, int? RequestedTopK = null);

/// <summary>
/// Evaluates one student checkpoint on the held-out set: greedy accuracy, sampled pass@1, and the sequence cost of every
/// sample to the teacher, with the CSR at the run's threshold (and a bootstrap interval) and over a sweep. Samples are
/// drawn at the run's τ and their costs use the sampler's own log-probs, as in training; greedy decoding is reported
/// for accuracy only.
/// </summary>
public sealed class CheckpointEvaluator(
    TeacherClient teacher,
    HeldOutSet heldOut,
    TeacherReference teacherReference,
    IOptions<EvaluatorOptions> options,
    ILogger<CheckpointEvaluator> logger)
{
    private readonly EvaluatorOptions settings = options.Value;

    public async Task<CheckpointEvaluation> EvaluateAsync(EvaluationTarget target, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var student = CheckpointModel.Load(target.CheckpointPath, settings.Device);
        var info = await RequireSameTokenizerAsync(student, target, cancellationToken);
        var constraint = ChooseEstimator(target, info, student.Tokenizer.VocabularySize);

        var problems = heldOut.Problems;
        var prompts = problems.Select(problem => student.Tokenizer.Encode(PromptFormat.Render(problem.Question)).ToArray()).ToArray();
        logger.LogInformation("Evaluating {Run} step {Step}: {Problems} problems, greedy and {Samples} samples each at τ = {Temperature}; costs with {Estimator}",
            target.RunId, target.Step, problems.Count, settings.SamplesPerProblem, target.Temperature, constraint.Estimator.Spelling());

        var greedy = student.Generate(prompts, temperature: 0, settings.MaxNewTokens, settings.Seed, settings.BatchSize, cancellationToken);
        // Problem-major: the samples of problem i are at i·n … i·n + n − 1.
        var samplePrompts = prompts.SelectMany(prompt => Enumerable.Repeat(prompt, settings.SamplesPerProblem)).ToArray();
        var samples = student.Generate(samplePrompts, (float)target.Temperature, settings.MaxNewTokens, settings.Seed, settings.BatchSize, cancellationToken);
        var tokenCosts = await TokenCostsAsync(student, samplePrompts, samples, constraint, target.Temperature, cancellationToken);
        var budget = new KlBudget(constraint.Threshold, constraint.Scope, constraint.Aggregation);

        var outcomes = problems.Select((problem, i) => new ProblemOutcome(
            CompletionGrade.Of(student.Tokenizer, greedy[i].TokenIds, problem.Answer).IsCorrect,
            greedy[i].TokenIds.Length,
            Enumerable.Range(i * settings.SamplesPerProblem, settings.SamplesPerProblem)
                .Select(s => new SampledCompletion(CompletionGrade.Of(student.Tokenizer, samples[s].TokenIds, problem.Answer).IsCorrect,
                    samples[s].TokenIds.Length, budget.SequenceCost(tokenCosts[s]), !budget.IsViolated(tokenCosts[s])))
                .ToArray())).ToArray();

        var threshold = constraint.Threshold;
        var metrics = MetricsAggregation.Summarize(outcomes, threshold, settings.SweepFor(threshold),
            await teacherReference.AccuracyAsync(cancellationToken));
        return new CheckpointEvaluation(
            target.RunId,
            target.Step,
            target.CheckpointPath,
            constraint,
            new HeldOutSettings(heldOut.Name, problems.Count, settings.SamplesPerProblem, target.Temperature, settings.MaxNewTokens, settings.Seed),
            metrics,
            outcomes.SelectMany(outcome => outcome.Samples).Select(sample => sample.SequenceCost).ToArray(),
            DateTimeOffset.UtcNow,
            clock.Elapsed.TotalSeconds,
            settings.BlindSpot is { } verb
                ? MetricsAggregation.ByBlindSpot(problems, outcomes, new TeacherBlindSpot { Verb = verb }, threshold, settings.SweepFor(threshold))
                : null);
    }

    /// <summary>
    /// The lowest-variance estimator the teacher allows, unless one was asked for: exact when the teacher returns the
    /// whole distribution (its max top-k covers the student's vocabulary), else top-k exact at the teacher's largest k,
    /// else k1.
    /// </summary>
    public static ConstraintSettings ChooseEstimator(EvaluationTarget target, TeacherInfo teacher, int vocabularySize)
    {
        var estimator = target.RequestedEstimator ?? (teacher.MaxTopK >= vocabularySize ? CostEstimator.Exact
            : teacher.MaxTopK >= 1 ? CostEstimator.TopKExact : CostEstimator.K1);
        var topK = estimator.TeacherTopK(target.RequestedTopK ?? teacher.MaxTopK, vocabularySize);
        if (topK > teacher.MaxTopK)
            throw new InvalidDataException($"--cost-estimator {estimator.Spelling()} needs {topK} teacher candidates per position; " +
                $"the teacher '{teacher.ModelId}' returns at most {teacher.MaxTopK}.");
        return target.Constraint with { Estimator = estimator, TopK = topK };
    }

    /// <summary>The teacher scores token ids: they mean the same only when both sides tokenize alike (the message names the checkpoint).</summary>
    private Task<TeacherInfo> RequireSameTokenizerAsync(CheckpointModel student, EvaluationTarget target, CancellationToken cancellationToken) =>
        teacher.ConnectAsync(student.Tokenizer, $"checkpoint {target.CheckpointPath}", cancellationToken);

    /// <summary>c_t of each sample from the sampler's log-probs and the teacher's; costs are computed, never trained on.</summary>
    private async Task<double[][]> TokenCostsAsync(CheckpointModel student, IReadOnlyList<int[]> prompts, IReadOnlyList<GeneratedCompletion> completions,
        ConstraintSettings constraint, double temperature, CancellationToken cancellationToken)
    {
        int vocabulary = student.Tokenizer.VocabularySize;
        var policy = SamplerPolicy.Of(temperature, vocabulary);
        var costs = new double[completions.Count][];
        for (var start = 0; start < completions.Count; start += settings.BatchSize)
        {
            var indices = Enumerable.Range(start, Math.Min(settings.BatchSize, completions.Count - start)).ToArray();
            var items = indices.Select(i => new ScoringItem(prompts[i], completions[i].TokenIds)).ToArray();
            var response = await teacher.ScoreAsync(items, constraint.TopK, cancellationToken);
            var candidateIds = CompletionCosts.CandidateIds(response.Sequences, constraint.Estimator, vocabulary);
            var candidateLogProbs = candidateIds is null ? null : student.CandidateLogProbs(items, policy, candidateIds, settings.BatchSize);
            var batchCosts = CompletionCosts.Compute(constraint.Estimator, items, indices.Select(i => completions[i].LogProbs).ToArray(),
                candidateLogProbs, response.Sequences, vocabulary);
            for (var j = 0; j < indices.Length; j++)
                costs[indices[j]] = batchCosts[j];
        }
        return costs;
    }
}
