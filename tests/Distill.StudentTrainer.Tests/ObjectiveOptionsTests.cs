using Distill.Core.Divergence;
using Distill.StudentTrainer.Objectives;

namespace Distill.StudentTrainer.Tests;

public class ObjectiveOptionsTests
{
    private static readonly ObjectiveOptions Valid = new() { Threshold = 1.0 };

    [Fact]
    public void DefaultsAreValid()
    {
        Assert.Empty(Valid.Validate());
    }

    public static TheoryData<ObjectiveOptions, string> Invalid => new()
    {
        { Valid with { Threshold = 0.0 }, "--threshold" },
        { Valid with { Threshold = double.NaN }, "--threshold" },
        { Valid with { Penalty = -1.0 }, "--penalty" },
        { Valid with { Kappa = -0.1 }, "--kappa" },
        { Valid with { FormatBonus = double.PositiveInfinity }, "--format-bonus" },
        { Valid with { KlCoefficient = -0.01 }, "--kl-coef" },
        { Valid with { LambdaLearningRate = 0.0 }, "--lambda-lr" },
        { Valid with { LambdaMax = 0.0 }, "--lambda-max" },
        { Valid with { LambdaInit = 20.0 }, "--lambda-init" },
        { Valid with { PidKp = -1.0 }, "--pid-kp" },
        { Valid with { PidKi = -1.0 }, "--pid-ki" },
        { Valid with { PidKd = -1.0 }, "--pid-kd" },
        { Valid with { Estimator = CostEstimator.TopKExact, TopK = 0 }, "--top-k" },
        { Valid with { Estimator = (CostEstimator)42 }, "--cost-estimator" },
        { Valid with { ClipEpsilon = 1.5 }, "--clip-eps" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void EachProblemNamesItsFlag(ObjectiveOptions options, string flag)
    {
        var problem = Assert.Single(options.Validate());
        Assert.StartsWith(flag + " ", problem);
    }

    [Fact]
    public void TheFactoryRefusesInvalidOptions()
    {
        var error = Assert.Throws<ArgumentException>(() => TrainingObjectiveFactory.Create("cmdp", Valid with { Kappa = -1.0 }));
        Assert.Contains("--kappa", error.Message);
    }
}
