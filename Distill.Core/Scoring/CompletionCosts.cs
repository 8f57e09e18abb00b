using Distill.Core.Contracts;
using Distill.Core.Divergence;

namespace Distill.Core.Scoring;

/// <summary>
/// Per-token costs c_t of scored completions, from the student's log-probs under its sampling policy and the teacher's
/// scores: the one place where the trainer and the evaluator turn the two sides into <see cref="TokenCostInputs"/>.
/// Teacher candidates at ids the student cannot emit (a teacher config padded beyond the shared tokenizer) are dropped,
/// so their mass falls into the teacher's rest bucket; nothing crashes on them.
/// </summary>
public static class CompletionCosts
{
    /// <summary>The teacher's candidate ids per item and position that the student's forward must gather: those below <paramref name="vocabularyLimit"/>.</summary>
    public static int[][][]? CandidateIds(IReadOnlyList<SequenceScores> teacher, CostEstimator estimator, int vocabularyLimit) =>
        estimator.NeedsTeacherCandidates()
            ? teacher.Select((scores, i) => (scores.TopK ?? throw new InvalidDataException($"the teacher returned no candidates for sequence {i}; {estimator.Spelling()} needs them."))
                .Select(position => position.Where(candidate => candidate.TokenId < vocabularyLimit).Select(candidate => candidate.TokenId).ToArray())
                .ToArray()).ToArray()
            : null;

    /// <summary>c_t for every item; <paramref name="student"/> was computed with <see cref="CandidateIds"/> when the estimator needs candidates.</summary>
    public static double[][] Compute(CostEstimator estimator, IReadOnlyList<ScoringItem> items, float[][] studentLogProbs,
        float[][][]? studentCandidateLogProbs, IReadOnlyList<SequenceScores> teacher, int vocabularyLimit)
    {
        var costs = new double[items.Count][];
        for (var i = 0; i < items.Count; i++)
        {
            var teacherCandidates = estimator.NeedsTeacherCandidates()
                ? teacher[i].TopK!.Select(position => position.Where(candidate => candidate.TokenId < vocabularyLimit).Select(candidate => candidate.LogProb).ToArray()).ToArray()
                : null;
            costs[i] = TokenCosts.Compute(estimator,
                new TokenCostInputs(studentLogProbs[i], teacher[i].LogProbs, studentCandidateLogProbs?[i], teacherCandidates));
        }
        return costs;
    }

    /// <summary>Each row's log-probs of its own completion tokens, from the [B, T] tensor of <see cref="CompletionLogProbs"/>.</summary>
    public static float[][] PerItem(CompletionLogProbs student, IReadOnlyList<ScoringItem> items)
    {
        using var logProbs = student.LogProbs.detach().cpu();
        int width = (int)logProbs.shape[1];
        var all = width == 0 ? [] : logProbs.data<float>().ToArray();
        return items.Select((item, i) => all.AsSpan(i * width, item.CompletionTokenIds.Length).ToArray()).ToArray();
    }
}
