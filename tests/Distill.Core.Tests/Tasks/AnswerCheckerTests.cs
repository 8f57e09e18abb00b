using Distill.Core.Tasks;
using Distill.Core.Tokenization;

namespace Distill.Core.Tests.Tasks;

public class AnswerCheckerTests
{
    public static TheoryData<string, string, bool> Cases => new()
    {
        // Plain GSM8K style.
        { "12+5=17\n#### 17", "17", true },
        { "#### 17", "18", false },
        { "#### 5\nmore text\n#### 17", "17", true },
        { "#### 17\nand then some rambling 99", "17", true },
        // Number normalisation.
        { "#### 1,234", "1234", true },
        { "#### $1,234.00", "1234", true },
        { "#### \\$5", "5", true },
        { "#### +7", "7", true },
        { "#### 7.", "7", true },
        { "#### 7.0", "7", true },
        { "#### -0", "0", true },
        { "#### 0.50", ".5", true },
        { "#### 0.75", "3/4", true },
        { "#### 3/4", "\\frac{3}{4}", true },
        { "#### 6/8", "0.75", true },
        { "#### \\dfrac{3}{4}", "0.75", true },
        { "#### -\\frac{1}{2}", "-0.5", true },
        { "#### -3", "3", false },
        { "#### 12,34", "1234", false },
        // Boxed answers, nested braces, last one wins.
        { "so \\boxed{2} then \\boxed{\\frac{1}{2}}", "0.5", true },
        { "\\boxed{\\{-1, 1\\}}", "\\{-1,1\\}", true },
        { "\\boxed{\\left( 1, 2 \\right)}", "(1,2)", true },
        { "#### 4\nbeats \\boxed{5}", "4", true },
        // GSM8K graders read the leading number of a #### answer followed by words; boxed answers stay whole.
        { "#### 4 beats 5", "4", true },
        { "#### 18 dollars", "18", true },
        { "#### $18.00 per hour", "18", true },
        { "#### 18 dollars", "19", false },
        { "#### about 18", "18", false },
        { "#### 18dollars", "18", false },
        { "\\boxed{2 \\sqrt{3}}", "2", false },
        { "#### 18 dollars", "x", false },
        // Malformed: never correct, never throws.
        { "", "17", false },
        { "####", "17", false },
        { "####   \n17", "17", false },
        { "#### garbage", "17", false },
        { "#### 17", "", false },
        { "#### 17", "####", false },
        { "\\boxed{17", "17", false },
        { "\\boxed{}", "17", false },
        { "\\boxed{{17}", "17", false },
        { "}}}\\boxed}{{", "17", false },
        { "#### " + new string('9', 5000), "17", false },
        { "#### " + new string('9', 5000), new string('9', 5000), true },
        { "#### 1/0", "1/0", true },
        { "#### 1/0", "0", false },
        { "#### ٣", "3", false },
        { "#### 1e3", "1000", false },
        { "#### .", "0", false },
        { "#### -", "0", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ChecksFinalAnswers(string completion, string reference, bool expected) =>
        Assert.Equal(expected, AnswerChecker.Check(completion, reference).IsCorrect);

    [Theory]
    [InlineData("#### 17", true)]
    [InlineData("\\boxed{x+1}", true)]
    [InlineData("17", false)]
    [InlineData("####", false)]
    [InlineData("\\boxed{17", false)]
    public void DetectsTheFinalAnswerMarker(string completion, bool expected) =>
        Assert.Equal(expected, AnswerChecker.ExtractFinalAnswer(completion) is not null);

    [Fact]
    public void ExtractsTheLastMarkedAnswer()
    {
        Assert.Equal("17", AnswerChecker.ExtractFinalAnswer("a\n#### 3\nb\n#### 17 "));
        Assert.Equal(@"\frac{1}{\sqrt{2}}", AnswerChecker.ExtractFinalAnswer(@"\boxed{1} \boxed{\frac{1}{\sqrt{2}}}"));
        Assert.Null(AnswerChecker.ExtractFinalAnswer("no answer here"));
    }

    [Theory]
    [InlineData("#### 17", 0.0, 1.0)]
    [InlineData("#### 17", 0.1, 1.1)]
    [InlineData("#### 18", 0.1, 0.1)]
    [InlineData("17", 0.1, 0.0)]
    [InlineData("#### 18", 0.0, 0.0)]
    public void TaskRewardIsCorrectnessPlusOptionalFormatBonus(string completion, double bonus, double expected) =>
        Assert.Equal(expected, new TaskReward(bonus).Score(CompletionGrade.Of(CharTokenizer.Default, CharTokenizer.Default.Encode(completion), "17")), precision: 12);

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void TaskRewardRejectsBonusesOutsideZeroToOne(double bonus) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TaskReward(bonus));
}
