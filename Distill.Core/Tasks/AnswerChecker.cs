using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace Distill.Core.Tasks;

/// <summary>
/// The project's one answer checker: finds the final answer in a completion and compares it with a reference.
/// Never throws on malformed text; anything it cannot read is simply not correct.
/// </summary>
/// <remarks>
/// The final answer is the text after the last <c>####</c> up to the end of that line; without one, the content of
/// the last balanced <c>\boxed{...}</c>. Numbers compare as exact rationals after normalisation (<c>1,234</c>,
/// <c>$5</c>, <c>+3</c>, <c>7.</c>, <c>7.0</c>, <c>-0</c>, <c>0.50</c>, <c>3/4</c>, <c>\frac{3}{4}</c>, <c>\dfrac{3}{4}</c>);
/// anything else compares as text with white space and <c>\left</c>/<c>\right</c> removed.
/// </remarks>
public static partial class AnswerChecker
{
    private const string Marker = "####";

    // Longer numbers are not plausible answers; refusing them keeps BigInteger work bounded.
    private const int MaxNumberLength = 200;

    /// <summary>The final answer in <paramref name="completion"/>, or null when it has none (or an empty one).</summary>
    public static string? ExtractFinalAnswer(string completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        var marker = completion.LastIndexOf(Marker, StringComparison.Ordinal);
        if (marker >= 0)
        {
            var rest = completion.AsSpan(marker + Marker.Length);
            var lineEnd = rest.IndexOfAny('\r', '\n');
            var answer = (lineEnd >= 0 ? rest[..lineEnd] : rest).Trim().ToString();
            return answer.Length > 0 ? answer : null;
        }

        return ExtractLastBoxed(completion);
    }

    /// <summary>
    /// The final answer of <paramref name="completion"/> (null when none) and whether it matches the reference, found
    /// and compared once. A <c>####</c> answer followed by words (<c>#### 18 dollars</c>) is read by its leading number
    /// when the reference is a number, as GSM8K graders do; a <c>oxed{}</c> answer is compared whole.
    /// </summary>
    public static (string? Answer, bool IsCorrect) Check(string completion, string referenceAnswer)
    {
        ArgumentNullException.ThrowIfNull(completion);
        ArgumentNullException.ThrowIfNull(referenceAnswer);
        var answer = ExtractFinalAnswer(completion);
        if (answer is null)
            return (null, false);
        if (AnswersMatch(answer, referenceAnswer))
            return (answer, true);
        var marked = completion.LastIndexOf(Marker, StringComparison.Ordinal) >= 0;
        return (answer, marked && LeadingNumber(answer) is { } number && TryParseRational(Canonicalize(referenceAnswer)) is not null
            && AnswersMatch(number, referenceAnswer));
    }

    /// <summary>The first white-space-separated word of an answer when more words follow it ("18" of "18 dollars"), else null.</summary>
    private static string? LeadingNumber(string answer)
    {
        var end = answer.AsSpan().IndexOfAny(' ', '\t');
        return end > 0 ? answer[..end] : null;
    }

    /// <summary>Compares two bare answers with the normalisation described on the class.</summary>
    public static bool AnswersMatch(string answer, string referenceAnswer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(referenceAnswer);
        var left = Canonicalize(answer);
        var right = Canonicalize(referenceAnswer);
        if (left.Length == 0 || right.Length == 0)
        {
            return false;
        }

        var leftNumber = TryParseRational(left);
        var rightNumber = TryParseRational(right);
        return leftNumber is not null || rightNumber is not null
            ? leftNumber is not null && rightNumber is not null && leftNumber.Value == rightNumber.Value
            : string.Equals(left, right, StringComparison.Ordinal);
    }

    /// <summary>The content of the last <c>\boxed{...}</c> (nested braces allowed), or null when absent, unbalanced or empty.</summary>
    public static string? ExtractLastBoxed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var start = text.LastIndexOf(@"\boxed", StringComparison.Ordinal);
        while (start >= 0)
        {
            var open = start + @"\boxed".Length;
            while (open < text.Length && text[open] == ' ')
            {
                open++;
            }

            if (open < text.Length && text[open] == '{')
            {
                var depth = 0;
                for (var i = open; i < text.Length; i++)
                {
                    depth += text[i] switch { '{' => 1, '}' => -1, _ => 0 };
                    if (depth == 0)
                    {
                        var content = text[(open + 1)..i].Trim();
                        return content.Length > 0 ? content : null;
                    }
                }

                return null;
            }

            start = start == 0 ? -1 : text.LastIndexOf(@"\boxed", start - 1, StringComparison.Ordinal);
        }

        return null;
    }

    private static string Canonicalize(string answer)
    {
        var text = answer.Trim();
        text = BoxedWrapper().Replace(text, "$1");
        text = text.Replace(@"\left", "", StringComparison.Ordinal).Replace(@"\right", "", StringComparison.Ordinal)
            .Replace(@"\$", "", StringComparison.Ordinal).Replace("$", "", StringComparison.Ordinal)
            .Replace(@"\!", "", StringComparison.Ordinal).Replace(@"\,", "", StringComparison.Ordinal);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (!char.IsWhiteSpace(c))
            {
                builder.Append(c);
            }
        }

        text = builder.ToString();
        while (text.EndsWith('.'))
        {
            text = text[..^1];
        }

        return text;
    }

    private static Rational? TryParseRational(string text)
    {
        if (text.Length > MaxNumberLength)
        {
            return null;
        }

        var fraction = LatexFraction().Match(text);
        if (fraction.Success)
        {
            var numerator = TryParseDecimal(fraction.Groups["num"].Value);
            var denominator = TryParseDecimal(fraction.Groups["den"].Value);
            var sign = fraction.Groups["sign"].Value == "-" ? -1 : 1;
            return numerator is not null && denominator is { IsZero: false } ? Rational.Divide(numerator.Value, denominator.Value).Scale(sign) : null;
        }

        var slash = text.IndexOf('/');
        if (slash >= 0)
        {
            var numerator = TryParseDecimal(text[..slash]);
            var denominator = TryParseDecimal(text[(slash + 1)..]);
            return numerator is not null && denominator is { IsZero: false } ? Rational.Divide(numerator.Value, denominator.Value) : null;
        }

        return TryParseDecimal(text);
    }

    private static Rational? TryParseDecimal(string text)
    {
        var match = DecimalNumber().Match(text);
        if (!match.Success)
        {
            return null;
        }

        var integerPart = match.Groups["int"].Value.Replace(",", "", StringComparison.Ordinal);
        var fractionPart = match.Groups["frac"].Value;
        var digits = integerPart + fractionPart;
        if (digits.Length == 0)
        {
            return null;
        }

        var numerator = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        if (match.Groups["sign"].Value == "-")
        {
            numerator = -numerator;
        }

        return new Rational(numerator, BigInteger.Pow(10, fractionPart.Length));
    }

    // Optional sign; digits with correctly placed thousands commas or plain digits; optional fraction part (".5",
    // "7.", "7.0" all read).
    [GeneratedRegex(@"^(?<sign>[+-]?)(?<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?<frac>[0-9]*))?$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalNumber();

    [GeneratedRegex(@"^(?<sign>[+-]?)\\[dt]?frac\{(?<num>[^{}]+)\}\{(?<den>[^{}]+)\}$", RegexOptions.CultureInvariant)]
    private static partial Regex LatexFraction();

    [GeneratedRegex(@"^\\boxed\{(.*)\}$", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex BoxedWrapper();

    /// <summary>An exact fraction in lowest terms with a positive denominator, so equal values compare equal.</summary>
    private readonly record struct Rational
    {
        public Rational(BigInteger numerator, BigInteger denominator)
        {
            if (denominator.Sign < 0)
            {
                numerator = -numerator;
                denominator = -denominator;
            }

            var divisor = BigInteger.GreatestCommonDivisor(numerator, denominator);
            Numerator = divisor.IsZero ? numerator : numerator / divisor;
            Denominator = divisor.IsZero ? denominator : denominator / divisor;
        }

        public BigInteger Numerator { get; }

        public BigInteger Denominator { get; }

        public bool IsZero => Numerator.IsZero;

        public static Rational Divide(Rational a, Rational b) => new(a.Numerator * b.Denominator, a.Denominator * b.Numerator);

        public Rational Scale(int sign) => new(Numerator * sign, Denominator);
    }
}
