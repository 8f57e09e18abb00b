using Distill.Evaluator.Reports;

namespace Distill.Evaluator.Tests;

public class FormatTests
{
    [Theory]
    [InlineData(-0.004, 2, true, "+0.00")] // rounds to zero: no "-+0.00"
    [InlineData(-0.006, 2, true, "−0.01")]
    [InlineData(5.84, 1, true, "+5.8")]
    [InlineData(-4.75, 1, false, "−4.8")]
    [InlineData(3.3, 1, false, "3.3")]
    public void DifferencesPrintWithOneSignRoundedFirst(double value, int decimals, bool plus, string expected) =>
        Assert.Equal(expected, Format.Signed(value, decimals, plus));
}
