using Distill.Evaluator.Evaluation;

namespace Distill.Evaluator.Tests;

public class MetricsAggregationTests
{
    // Four problems, two samples each; answers and sequence costs chosen by hand, within budget where C ≤ 1.
    private static readonly ProblemOutcome[] Problems =
    [
        new(GreedyIsCorrect: true, GreedyResponseTokens: 10, [new(true, 12, 0.5, true), new(true, 8, 1.0, true)]),
        new(GreedyIsCorrect: true, GreedyResponseTokens: 20, [new(true, 20, 1.5, false), new(false, 30, 4.0, false)]),
        new(GreedyIsCorrect: false, GreedyResponseTokens: 30, [new(false, 10, -0.5, true), new(false, 10, 2.0, false)]),
        new(GreedyIsCorrect: true, GreedyResponseTokens: 40, [new(false, 40, 3.0, false), new(true, 30, 0.0, true)]),
    ];

    [Fact]
    public void TheBlindSpotFamilyAndTheRestAreSummarizedApart()
    {
        // Problems 2 and 4 have a "loses" step: the default teacher's blind spot.
        Core.Tasks.MathProblem Problem(string id, string step) =>
            new(id, $"Sam has 9 pens. Sam {step}. How many pens does Sam have now?", "", "");
        var problems = new[] { Problem("a", "buys 2 more"), Problem("b", "loses 2"), Problem("c", "sells 2"), Problem("d", "loses 3") };

        var parts = MetricsAggregation.ByBlindSpot(problems, Problems, Core.Tasks.TeacherBlindSpot.Default, threshold: 1.0, []);

        Assert.Equal(["blind spot ('loses')", "rest"], parts.Select(p => p.Name));
        Assert.Equal([2, 2], parts.Select(p => p.Problems));
        var (family, rest) = (parts[0].Metrics, parts[1].Metrics);
        Assert.Equal(1.0, family.GreedyAccuracy);   // problems 2 and 4
        Assert.Equal(0.5, rest.GreedyAccuracy);     // problems 1 and 3
        Assert.Equal((1.5 + 4.0 + 3.0 + 0.0) / 4, family.CostMean, 12);
        Assert.Equal(0.25, family.SatisfactionRate);
        Assert.Equal(0.75, rest.SatisfactionRate);
        Assert.Null(family.TeacherAccuracy);
        Assert.Throws<ArgumentException>(() => MetricsAggregation.ByBlindSpot(problems[..3], Problems, Core.Tasks.TeacherBlindSpot.Default, 1.0, []));
    }

    [Fact]
    public void AccuracyIsGreedyAndPassAt1IsTheMeanShareOfCorrectSamples()
    {
        var metrics = MetricsAggregation.Summarize(Problems, threshold: 1.0, [], teacherAccuracy: 0.875);

        Assert.Equal(0.75, metrics.GreedyAccuracy);
        // Per problem 2/2, 1/2, 0/2, 1/2 → mean 0.5.
        Assert.Equal(0.5, metrics.SampledPassAt1);
        Assert.Equal(0.875, metrics.TeacherAccuracy);
    }

    [Fact]
    public void CostStatisticsAreOverTheSampledCompletions()
    {
        var metrics = MetricsAggregation.Summarize(Problems, threshold: 1.0, [], teacherAccuracy: null);

        // Costs: 0.5, 1.0, 1.5, 4.0, −0.5, 2.0, 3.0, 0.0 → sum 11.5, sorted −0.5 0 0.5 1 1.5 2 3 4.
        Assert.Equal(11.5 / 8, metrics.CostMean, 12);
        Assert.Equal(1.25, metrics.CostP50, 12);
        Assert.Equal(3.0 + 0.3 * 1.0, metrics.CostP90, 12);
        Assert.Equal(4.0, metrics.CostMax);
        Assert.Null(metrics.TeacherAccuracy);
        Assert.Equal(160 / 8.0, metrics.MeanResponseTokens);
        Assert.Equal(160 + 100, metrics.GeneratedTokens);
    }

    [Fact]
    public void SatisfactionRateIsTheShareOfSamplesWithinBudget()
    {
        // Within budget: 0.5, 1.0 | 1.5 no, 4.0 no | −0.5, 2.0 no | 3.0 no, 0.0 → 4 of 8.
        var metrics = MetricsAggregation.Summarize(Problems, threshold: 1.0, [], teacherAccuracy: null);

        Assert.Equal(0.5, metrics.SatisfactionRate, 12);
    }

    [Fact]
    public void TheSatisfactionIntervalResamplesProblemsAndRepeats()
    {
        var metrics = MetricsAggregation.Summarize(Problems, threshold: 1.0, [], teacherAccuracy: null);

        // Problem CSRs 1, 0, 0.5, 0.5: resampled means lie in [0, 1] and the interval holds the estimate.
        Assert.InRange(metrics.SatisfactionRateLow, 0.0, 0.5);
        Assert.InRange(metrics.SatisfactionRateHigh, 0.5, 1.0);
        Assert.True(metrics.SatisfactionRateHigh - metrics.SatisfactionRateLow >= 0.25, $"{metrics.SatisfactionRateLow}–{metrics.SatisfactionRateHigh}");
        Assert.Equal(metrics, MetricsAggregation.Summarize(Problems, threshold: 1.0, [], teacherAccuracy: null) with { SatisfactionSweep = metrics.SatisfactionSweep });

        // Every sample within budget: no uncertainty left to resample.
        ProblemOutcome[] allWithin = [new(true, 1, [new(true, 1, 0.1, true), new(true, 1, 0.2, true)]), new(false, 1, [new(true, 1, 0.3, true)])];
        Assert.Equal((1.0, 1.0), MetricsAggregation.SatisfactionInterval(allWithin));
    }

    [Fact]
    public void TheChangeInCsrIsPairedByProblem()
    {
        // Twenty problems × four samples, d = 1: ten easy (every sample within budget, before and after) and ten hard
        // (none within before, one of four after). The CSR goes from 50 % to 62.5 %; each CSR's own interval is wide,
        // since a problem is all in or all out, but the change is the same 0 or ¼ whichever problems are drawn.
        double[] Costs(int hardWithin) => Enumerable.Range(0, 20).SelectMany(problem => problem < 10
            ? new[] { 0.1, 0.2, 0.3, 0.4 }
            : Enumerable.Range(0, 4).Select(sample => sample < hardWithin ? 0.5 : 3.0)).ToArray();
        var before = Costs(hardWithin: 0);
        var after = Costs(hardWithin: 1);

        var change = MetricsAggregation.SatisfactionChangeOf(before, after, samplesPerProblem: 4, threshold: 1.0);

        Assert.Equal(0.125, change.Change, 12);
        Assert.InRange(change.Low, 0.05, 0.125);
        Assert.InRange(change.High, 0.125, 0.2);
        var beforeProblems = Enumerable.Range(0, 20).Select(problem => new ProblemOutcome(true, 1,
            before.Skip(4 * problem).Take(4).Select(cost => new SampledCompletion(true, 1, cost, cost <= 1.0)).ToArray())).ToArray();
        var (low, high) = MetricsAggregation.SatisfactionInterval(beforeProblems);
        Assert.True(high - low > 2 * (change.High - change.Low), $"unpaired {low}–{high}, paired {change.Low}–{change.High}");
        Assert.Equal(change, MetricsAggregation.SatisfactionChangeOf(before, after, 4, 1.0));

        Assert.Equal(new SatisfactionChange(0, 0, 0), MetricsAggregation.SatisfactionChangeOf(after, after, 4, 1.0));
        Assert.Throws<ArgumentException>(() => MetricsAggregation.SatisfactionChangeOf(before, after.Take(76).ToArray(), 4, 1.0));
        Assert.Throws<ArgumentException>(() => MetricsAggregation.SatisfactionChangeOf(before, after, 3, 1.0));
    }

    [Fact]
    public void TheSweepIsSortedAndIncludesTheRunsThreshold()
    {
        var metrics = MetricsAggregation.Summarize(Problems, threshold: 1.0, [4.0, 0.0, 2.0, 1.0], teacherAccuracy: null);

        Assert.Equal([0.0, 1.0, 2.0, 4.0], metrics.SatisfactionSweep.Select(point => point.Threshold));
        Assert.Equal([2 / 8.0, 4 / 8.0, 6 / 8.0, 1.0], metrics.SatisfactionSweep.Select(point => point.Rate));
    }

    [Fact]
    public void TheDefaultSweepSpansMultiplesOfTheThreshold()
    {
        var sweep = new EvaluatorOptions().SweepFor(2.0);

        Assert.Equal([0.25, 0.5, 1, 2, 4, 8, 16], sweep);
    }

    [Fact]
    public void NoProblemsIsAnError() =>
        Assert.Throws<ArgumentException>(() => MetricsAggregation.Summarize([], 1.0, [], null));
}
