using Distill.Core.Tasks;
using Distill.Core.Tests.Tokenization;
using Distill.Core.Tokenization;

namespace Distill.Core.Tests.Tasks;

/// <summary>The one decode-for-checking path, with the real Qwen3 and Llama 3 tokenizers whose EOS is an added token.</summary>
public class CompletionGradeTests
{
    public static TheoryData<string> Packages => new() { RealTokenizerFiles.Qwen3Package, RealTokenizerFiles.Llama3Package };

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task ARightAnswerEndingInAnAddedEosTokenIsRight(string package)
    {
        var tokenizer = HuggingFaceTokenizer.Load(await RealTokenizerFiles.GetDirectoryAsync(package));
        int[] completion = [.. tokenizer.Encode("12+5=17\n#### 17"), tokenizer.EosTokenId];

        // What the trainer did before: decoding the stop token along with the answer turns "17" into "17<|im_end|>".
        var withStopToken = tokenizer.Decode(completion);
        Assert.EndsWith(">", withStopToken);
        Assert.False(AnswerChecker.Check(withStopToken, "17").IsCorrect);

        var grade = CompletionGrade.Of(tokenizer, completion, "17");
        Assert.True(grade.IsCorrect);
        Assert.Equal("17", grade.FinalAnswer);
        Assert.Equal("12+5=17\n#### 17", grade.Text);
        Assert.Equal(1.1, new TaskReward(0.1).Score(grade), 12);
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task NothingAfterTheFirstStopTokenIsRead(string package)
    {
        var tokenizer = HuggingFaceTokenizer.Load(await RealTokenizerFiles.GetDirectoryAsync(package));
        int[] completion = [.. tokenizer.Encode("#### 3"), tokenizer.EosTokenId, .. tokenizer.Encode("\n#### 17")];

        var grade = CompletionGrade.Of(tokenizer, completion, "17");
        Assert.False(grade.IsCorrect);
        Assert.Equal("3", grade.FinalAnswer);
    }

    [Fact]
    public void AnswersWithUnitsAreReadByTheirLeadingNumber()
    {
        var tokenizer = CharTokenizer.Default;
        var grade = CompletionGrade.Of(tokenizer, tokenizer.Encode("#### 18 dollars"), "18");
        Assert.True(grade.IsCorrect);
        Assert.True(grade.HasFinalAnswer);
        Assert.False(CompletionGrade.Of(tokenizer, tokenizer.Encode("so 18"), "18").HasFinalAnswer);
    }
}
