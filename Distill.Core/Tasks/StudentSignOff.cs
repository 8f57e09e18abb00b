namespace Distill.Core.Tasks;

/// <summary>
/// A habit that the default student has and its teacher never has: a share of the student's training solutions end
/// with a sign-off line after the answer (<c>#### 19\nHope this helps!</c>), as a chat model's replies do. It stands
/// for what a student from another model family brings to distillation: text that the teacher gives almost no
/// probability, so each sample that has it costs about 200 nats of KL with the default models, and that the reward
/// cannot see, because the checker reads the answer line only. The reward is therefore indifferent to it; a KL budget
/// (or any pull towards the teacher) is what makes the student drop it. Unlike the student's capacity, this part of
/// its divergence can be unlearned.
/// </summary>
public static class StudentSignOff
{
    /// <summary>The line the habit adds after the answer, unless another is asked for.</summary>
    public const string Line = "Hope this helps!";

    /// <summary><paramref name="solution"/> with <paramref name="line"/> after it, on a line of its own.</summary>
    public static string Of(string solution, string line = Line)
    {
        ArgumentNullException.ThrowIfNull(solution);
        ArgumentNullException.ThrowIfNull(line);
        return solution + "\n" + line;
    }

    /// <summary>
    /// Why <paramref name="line"/> cannot be a sign-off, or null when it can: it must be one non-empty line of the
    /// default tokenizer's characters (another would become <c>&lt;unk&gt;</c>) without <c>####</c>, which would move the
    /// answer the checker reads and so let the reward see the habit.
    /// </summary>
    public static string? WhyNotALine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Length == 0) return "it is empty";
        if (line.Contains("####", StringComparison.Ordinal)) return "it contains ####, the answer marker";
        if (line.Contains('\n')) return "it has a line break";
        var foreign = line.AsSpan().IndexOfAnyExcept(Tokenization.CharTokenizer.DefaultAlphabet);
        return foreign < 0 ? null : $"'{line[foreign]}' is not in the default tokenizer's alphabet";
    }

    /// <summary>Whether <paramref name="share"/> can be a share of signed-off solutions: within [0, 1), so some stay plain.</summary>
    public static bool IsValidShare(double share) => share >= 0 && share < 1;

    /// <summary>
    /// The student's training data: <paramref name="problems"/> (the teacher's data), with a sign-off after the
    /// solutions of a share <paramref name="share"/> of them, drawn with <paramref name="seed"/>.
    /// </summary>
    public static IReadOnlyList<MathProblem> InShare(IReadOnlyList<MathProblem> problems, double share, int seed, string line = Line)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (WhyNotALine(line) is { } why)
            throw new ArgumentException($"The sign-off line cannot be used: {why}.", nameof(line));
        if (!IsValidShare(share))
            throw new ArgumentOutOfRangeException(nameof(share), share, "The share of solutions with a sign-off must be within [0, 1).");
        if (share == 0) return problems;
        var random = new Random(unchecked(seed * 104_729 + 31));
        return problems.Select(p => random.NextDouble() < share ? p with { Solution = Of(p.Solution, line) } : p).ToArray();
    }
}
