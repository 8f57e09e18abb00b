using Distill.Core.Divergence;

namespace Distill.StudentTrainer.Tests;

public class TokenCostsTests
{
    private static readonly float[] Student = [-1f, -2f, -0.5f];
    private static readonly float[] Teacher = [-1.5f, -1f, -0.5f];

    [Fact]
    public void K1IsStudentMinusTeacherLogProb()
    {
        // -1 - (-1.5) = 0.5;  -2 - (-1) = -1;  -0.5 - (-0.5) = 0
        Assert.Equal([0.5, -1.0, 0.0], TokenCosts.K1(Student, Teacher));
    }

    [Fact]
    public void K3IsRatioMinusOneMinusLogRatio()
    {
        // log r = lt - ls.  t0: log r = -0.5, r = e^-0.5 = 0.6065306597, c = -0.3934693403 + 0.5 = 0.1065306597
        //                   t1: log r = 1,    r = e = 2.7182818285,       c = 1.7182818285 - 1 = 0.7182818285
        //                   t2: log r = 0,    r = 1,                      c = 0
        var costs = TokenCosts.K3(Student, Teacher);
        Assert.Equal(0.1065306597, costs[0], 9);
        Assert.Equal(0.7182818285, costs[1], 9);
        Assert.Equal(0.0, costs[2], 12);
    }

    [Fact]
    public void TopKExactAddsARestBucketForEachDistribution()
    {
        // Teacher top-2 probs (0.5, 0.25), rest 0.25. Student at those ids (0.25, 0.25), rest 0.5.
        // c = 0.25·ln(0.25/0.5) + 0.25·ln(0.25/0.25) + 0.5·ln(0.5/0.25) = -0.25 ln2 + 0 + 0.5 ln2 = 0.25 ln2 = 0.1732867951
        float[] student = [MathF.Log(0.25f), MathF.Log(0.25f)];
        float[] teacher = [MathF.Log(0.5f), MathF.Log(0.25f)];
        Assert.Equal(0.1732867951, TokenCosts.TopKExactAt(student, teacher), 6);
    }

    [Fact]
    public void TopKExactIsZeroWhenTheDistributionsAgreeAndFiniteWhenTheTeacherTopKHoldsAllItsMass()
    {
        float[] same = [MathF.Log(0.5f), MathF.Log(0.25f)];
        Assert.Equal(0.0, TokenCosts.TopKExactAt(same, same), 6);

        // Teacher top-2 = (0.5, 0.5): no rest mass (float rounding leaves ~2e-9, below the floor). Student (0.25, 0.25),
        // rest 0.5, against the floored rest 1e-8:
        // c = 2·0.25·ln(0.25/0.5) + 0.5·ln(0.5/1e-8) = -0.3465735903 + 0.5·(ln 5 + 7 ln 10)
        //   = -0.3465735903 + 0.5·(1.6094379124 + 16.1180956510) = -0.3465735903 + 8.8637667817 = 8.5171931914
        float[] teacher = [MathF.Log(0.5f), MathF.Log(0.5f)];
        float[] student = [MathF.Log(0.25f), MathF.Log(0.25f)];
        Assert.Equal(8.5171931914, TokenCosts.TopKExactAt(student, teacher), 5);
    }

    [Fact]
    public void ComputeDispatchesOnTheEstimatorAndNamesMissingTopKInputs()
    {
        var inputs = new TokenCostInputs(Student, Teacher);
        Assert.Equal([0.5, -1.0, 0.0], TokenCosts.Compute(CostEstimator.K1, inputs));
        var error = Assert.Throws<ArgumentException>(() => TokenCosts.Compute(CostEstimator.TopKExact, inputs));
        Assert.Contains("top-k", error.Message);

        var topK = inputs with
        {
            StudentLogProbsAtTeacherTopK = [[MathF.Log(0.25f), MathF.Log(0.25f)]],
            TeacherTopKLogProbs = [[MathF.Log(0.5f), MathF.Log(0.25f)]],
        };
        Assert.Equal(0.1732867951, TokenCosts.Compute(CostEstimator.TopKExact, topK)[0], 6);
    }

    [Fact]
    public void MismatchedLengthsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => TokenCosts.K1([-1f, -2f], [-1f]));
    }
}
