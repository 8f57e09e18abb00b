using Distill.Core.Tokenization;

namespace Distill.Core.Tasks;

/// <summary>
/// The one prompt layout every service uses: <c>"Q: {question}\nA: "</c>, and the completion is the worked solution
/// followed by the tokenizer's EOS id (an id, not text, so it cannot collide with anything in a solution).
/// </summary>
public static class PromptFormat
{
    public const string QuestionPrefix = "Q: ";
    public const string AnswerPrefix = "\nA: ";

    public static string Render(string question)
    {
        ArgumentNullException.ThrowIfNull(question);
        return QuestionPrefix + question + AnswerPrefix;
    }

    /// <summary>Prompt ids and completion ids (solution + EOS) of <paramref name="problem"/> for teacher forcing.</summary>
    public static EncodedExample Encode(ITextTokenizer tokenizer, MathProblem problem)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(problem);
        var completion = new List<int>(tokenizer.Encode(problem.Solution)) { tokenizer.EosTokenId };
        return new EncodedExample(tokenizer.Encode(Render(problem.Question)), completion);
    }
}

public sealed record EncodedExample(IReadOnlyList<int> PromptIds, IReadOnlyList<int> CompletionIds);
