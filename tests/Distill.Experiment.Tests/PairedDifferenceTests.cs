namespace Distill.Experiment.Tests;

public class PairedDifferenceTests
{
    [Fact]
    public void TheIntervalIsTheMeanDifferencePlusOrMinusStudentsTTimesItsStandardError()
    {
        // Differences 0.01, 0.02, 0.03: mean 0.02, standard deviation 0.01, t(2) = 4.303, half-width 4.303 · 0.01 / √3.
        var difference = PairedDifference.Of("lagrangian", "cmdp", 2.6, "CSR at d", [(0.81, 0.80), (0.72, 0.70), (0.93, 0.90)]);

        Assert.Equal(0.02, difference.Mean, 12);
        Assert.Equal(0.02 - 4.303 * 0.01 / Math.Sqrt(3), difference.Low, 9);
        Assert.Equal(0.02 + 4.303 * 0.01 / Math.Sqrt(3), difference.High, 9);
        Assert.Equal(3, difference.Seeds);
    }

    [Fact]
    public void OneSeedHasNoInterval() =>
        Assert.Throws<ArgumentException>(() => PairedDifference.Of("a", "b", 1, "m", [(1, 0)]));

    [Theory]
    [InlineData(1, 12.706)]
    [InlineData(4, 2.776)]
    [InlineData(30, 2.042)]
    [InlineData(40, 2.021)]
    [InlineData(120, 1.980)]
    public void StudentsTQuantileMatchesTheTables(int degreesOfFreedom, double expected) =>
        Assert.Equal(expected, PairedDifference.StudentT975(degreesOfFreedom), 3);
}
