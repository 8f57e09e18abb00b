using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace Distill.Core.Tasks;

/// <summary>
/// A systematic mistake given to the default teacher, so that the task reward and the teacher pull apart: in the
/// teacher's training data the steps told with <see cref="Verb"/> ("Sam loses 4."; one verb or several, comma-separated) are mostly worked as additions
/// (<c>12+4=16</c> instead of <c>12-4=8</c>). The problems, their answers and the checker do not change: the reward
/// still says the teacher is wrong on that family, and a student can only get it right by moving away from the teacher.
/// </summary>
/// <remarks>
/// <see cref="ErrorRate"/> below 1 leaves the right working in a few of the family's examples, so the teacher (and a
/// student trained on its data) keeps a small probability on the right operator: greedy decoding is still wrong, while
/// sampling finds the right answer now and then, which is what a policy gradient needs to learn from.
/// </remarks>
public sealed record TeacherBlindSpot
{
    /// <summary>The default: "loses" steps (one of the four subtraction templates; in about a fifth of the default task's problems).</summary>
    public static TeacherBlindSpot Default { get; } = new();

    /// <summary>
    /// The verb of the family, or several separated by commas ("loses,sells"): each of the four subtraction templates
    /// covers about a fifth of the task, so two verbs make the blind spot about two fifths of it.
    /// </summary>
    public string Verb { get; init; } = "loses";

    /// <summary>The verbs <see cref="Verb"/> names (not written out: <see cref="Verb"/> says it).</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Verbs => Verb.Split(',');

    /// <summary>Share of the family's training examples worked the wrong way; in (0, 1].</summary>
    public double ErrorRate { get; init; } = 0.9;

    public void Validate()
    {
        if (!IsVerbList(Verb))
            throw new ArgumentException($"The blind spot must be one verb, or several separated by commas, without spaces; got '{Verb}'.");
        if (!(ErrorRate > 0 && ErrorRate <= 1))
            throw new ArgumentException($"The blind spot's error rate must be within (0, 1]; got {ErrorRate}.");
    }

    /// <summary>Whether <paramref name="verbs"/> can name a blind spot: one word, or words separated by commas, no spaces.</summary>
    public static bool IsVerbList(string? verbs) =>
        !string.IsNullOrWhiteSpace(verbs) && !verbs.Any(char.IsWhiteSpace) && verbs.Split(',').All(verb => verb.Length > 0);

    /// <summary>Whether <paramref name="problem"/> has a step told with one of <see cref="Verbs"/>: the family the teacher gets wrong.</summary>
    public bool Covers(MathProblem problem) => StepSentences(problem.Question).Any(IsBlindStep);

    /// <summary>
    /// The teacher's version of a generated problem's worked solution: every step told with one of <see cref="Verbs"/> added instead of
    /// subtracted, and the later steps carried on from the wrong total. The question and <see cref="MathProblem.Answer"/>
    /// (the truth the checker uses) are kept; the returned solution ends in the wrong <c>####</c> answer.
    /// </summary>
    /// <exception cref="FormatException">The problem is not in <see cref="MathProblemGenerator"/>'s format.</exception>
    public string MisreadSolution(MathProblem problem)
    {
        var steps = StepSentences(problem.Question);
        var lines = problem.Solution.Split('\n');
        if (lines.Length != steps.Count + 1 || !lines[^1].StartsWith("#### ", StringComparison.Ordinal))
            throw new FormatException($"Problem {problem.Id}: {steps.Count} step sentences but solution lines '{problem.Solution}'.");

        var solution = new StringBuilder();
        int? current = null;
        for (int i = 0; i < steps.Count; i++)
        {
            var (left, symbol, operand) = ParseLine(problem.Id, lines[i]);
            int value = current ?? left;
            if (IsBlindStep(steps[i]))
                symbol = '+';
            int result = symbol switch
            {
                '+' => value + operand,
                '-' => value - operand,
                '*' => value * operand,
                '/' => value / operand,
                _ => throw new FormatException($"Problem {problem.Id}: unknown operator '{symbol}'."),
            };
            solution.Append(CultureInfo.InvariantCulture, $"{value}{symbol}{operand}={result}\n");
            current = result;
        }
        solution.Append(CultureInfo.InvariantCulture, $"#### {current}");
        return solution.ToString();
    }

    private bool IsBlindStep(string sentence) => Verbs.Any(verb => sentence.Contains($" {verb} ", StringComparison.Ordinal));

    // "Mia has 12 apples. Step one. Step two. How many apples does Mia have now?": the sentences between the first and the last.
    private static List<string> StepSentences(string question)
    {
        var sentences = question.Split(". ");
        return sentences.Length < 2 ? [] : sentences[1..^1].ToList();
    }

    private static (int Left, char Symbol, int Operand) ParseLine(string id, string line)
    {
        int equals = line.IndexOf('=');
        int op = line.IndexOfAny(['+', '-', '*', '/'], 1);
        if (equals < 0 || op < 0 || op > equals
            || !int.TryParse(line.AsSpan(0, op), NumberStyles.None, CultureInfo.InvariantCulture, out int left)
            || !int.TryParse(line.AsSpan(op + 1, equals - op - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int operand))
            throw new FormatException($"Problem {id}: '{line}' is not a step line like 12+5=17.");
        return (left, line[op], operand);
    }
}
