using Distill.Core.Tokenization;

namespace Distill.Core.Tasks;

/// <summary>
/// One completion read once for checking: the text before its stop token, the final answer found in it (null when it
/// states none) and whether that answer matches the reference.
/// </summary>
public sealed record CompletionGrade(string Text, string? FinalAnswer, bool IsCorrect)
{
    /// <summary>The completion states a final answer (<c>#### x</c> or <c>\boxed{x}</c>), right or wrong: what a format bonus pays for.</summary>
    public bool HasFinalAnswer => FinalAnswer is not null;

    /// <summary>The task reward R ∈ {0, 1}.</summary>
    public double Reward => IsCorrect ? 1.0 : 0.0;

    /// <summary>
    /// The one decode-for-checking path of the trainer, the evaluator and the bootstrap: decode the ids before the first
    /// stop token (EOS unless others are named), so an added stop token such as Qwen's <c>&lt;|im_end|&gt;</c> or Llama's
    /// <c>&lt;|end_of_text|&gt;</c> never becomes part of the answer; then extract the answer once and compare it once.
    /// </summary>
    public static CompletionGrade Of(ITextTokenizer tokenizer, IReadOnlyList<int> completionIds, string referenceAnswer,
        IReadOnlyCollection<int>? stopTokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(completionIds);
        ArgumentNullException.ThrowIfNull(referenceAnswer);
        var text = tokenizer.Decode(IdsBeforeStop(completionIds, stopTokenIds ?? [tokenizer.EosTokenId]));
        var (answer, isCorrect) = AnswerChecker.Check(text, referenceAnswer);
        return new CompletionGrade(text, answer, isCorrect);
    }

    /// <summary>The ids up to, not including, the first stop token.</summary>
    private static IEnumerable<int> IdsBeforeStop(IReadOnlyList<int> ids, IReadOnlyCollection<int> stopTokenIds) =>
        ids.TakeWhile(id => !stopTokenIds.Contains(id));
}
