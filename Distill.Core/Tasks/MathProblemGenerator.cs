using System.Security.Cryptography;
using System.Text;

namespace Distill.Core.Tasks;

/// <summary>
/// Seeded generator of multi-step arithmetic word problems ("Mia has 12 apples. Mia buys 5 more. ...") with worked
/// solutions of one line per step (<c>12+5=17</c>) ending in <c>#### 17</c>.
/// </summary>
/// <remarks>
/// Same options, split, seed and count give the same problems on every machine and .NET version: <see cref="Random"/>
/// with an explicit seed uses its legacy algorithm, which .NET keeps stable for that purpose. Every character written
/// is inside <see cref="Tokenization.CharTokenizer.DefaultAlphabet"/>: sentences start with a name or "How", and all
/// names start with a capital in that alphabet.
/// </remarks>
public sealed class MathProblemGenerator
{
    private static readonly string[] Names =
        ["Ava", "Ben", "Jack", "Mia", "Sam", "Sara", "Amy", "Bob", "Max", "Jill", "Adam", "Beth", "Jane", "Mark", "Sofia", "Jo"];

    private static readonly string[] Objects =
        ["apples", "pens", "cards", "books", "coins", "stickers", "marbles", "eggs", "shells", "toys", "stamps", "beads"];

    // {0} the protagonist, {1} the operand, {2} a friend.
    private static readonly string[] AddTemplates = ["{0} buys {1} more.", "{0} finds {1} more.", "{2} gives {0} {1} more.", "{0} wins {1} more."];
    private static readonly string[] SubtractTemplates = ["{0} gives {1} to {2}.", "{0} loses {1}.", "{0} sells {1}.", "{0} gives away {1}."];
    private static readonly string[] MultiplyTemplates = ["{0} ends up with {1} times as many.", "{0} multiplies them by {1}."];
    private static readonly string[] DivideTemplates = ["{0} splits them into {1} equal groups and keeps one.", "{0} shares them equally with {2}, {1} ways, and keeps one share."];

    private const int TrainBuckets = 90;
    private const int ValidationBuckets = 5;

    private readonly MathProblemOptions _options;

    public MathProblemGenerator(MathProblemOptions? options = null)
    {
        _options = options ?? new MathProblemOptions();
        _options.Validate();
    }

    /// <summary>
    /// <paramref name="count"/> distinct problems of <paramref name="split"/>, drawn from the seed stream
    /// (<paramref name="split"/>, <paramref name="seed"/>); questions are unique within the result and never occur
    /// in another split.
    /// </summary>
    /// <exception cref="InvalidOperationException">The options allow too few distinct problems for <paramref name="count"/>.</exception>
    public IReadOnlyList<MathProblem> Generate(ProblemSplit split, int seed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(StableMix(split, seed));
        var problems = new List<MathProblem>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var attempts = 0;
        var maxAttempts = 50L * count + 10_000;
        while (problems.Count < count)
        {
            if (++attempts > maxAttempts)
            {
                throw new InvalidOperationException(
                    $"Found only {problems.Count} distinct {split} problems of {count} after {attempts - 1} attempts; the options allow too few problems.");
            }

            var (question, solution, answer) = Compose(random);
            if (SplitOf(question) == split && seen.Add(question))
            {
                problems.Add(new MathProblem($"{split.ToString().ToLowerInvariant()}-{seed}-{problems.Count}", question, solution, answer));
            }
        }

        return problems;
    }

    /// <summary>The split a question belongs to, from a SHA-256 of its text (stable everywhere).</summary>
    public static ProblemSplit SplitOf(string question)
    {
        ArgumentNullException.ThrowIfNull(question);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(question));
        var bucket = (int)(BitConverter.ToUInt32(hash, 0) % 100);
        return bucket < TrainBuckets ? ProblemSplit.Train
            : bucket < TrainBuckets + ValidationBuckets ? ProblemSplit.Validation
            : ProblemSplit.Test;
    }

    // HashCode.Combine is randomised per process, so seed streams are mixed by hand.
    private static int StableMix(ProblemSplit split, int seed) => unchecked((seed * 1_000_003) ^ ((int)split + 1) * 0x2545F491);

    private (string Question, string Solution, string Answer) Compose(Random random)
    {
        var name = Names[random.Next(Names.Length)];
        var objects = Objects[random.Next(Objects.Length)];
        var current = random.Next(1, _options.MaxOperand + 1);
        var steps = random.Next(_options.MinSteps, _options.MaxSteps + 1);

        var question = new StringBuilder($"{name} has {current} {objects}.");
        var solution = new StringBuilder();
        for (var step = 0; step < steps; step++)
        {
            var friend = Names[random.Next(Names.Length)];
            while (friend == name)
            {
                friend = Names[random.Next(Names.Length)];
            }

            var feasible = _options.Operations.Distinct().Where(op => Bounds(op, current) is not null).ToList();
            if (feasible.Count == 0)
            {
                break;
            }

            var operation = feasible[random.Next(feasible.Count)];
            var (low, high) = Bounds(operation, current)!.Value;
            var operand = operation == ArithmeticOperation.Divide ? PickDivisor(random, current, low, high) : random.Next(low, high + 1);
            var (symbol, result, templates) = operation switch
            {
                ArithmeticOperation.Add => ('+', current + operand, AddTemplates),
                ArithmeticOperation.Subtract => ('-', current - operand, SubtractTemplates),
                ArithmeticOperation.Multiply => ('*', current * operand, MultiplyTemplates),
                _ => ('/', current / operand, DivideTemplates),
            };

            question.Append(' ').AppendFormat(templates[random.Next(templates.Length)], name, operand, friend);
            solution.Append($"{current}{symbol}{operand}={result}\n");
            current = result;
        }

        question.Append($" How many {objects} does {name} have now?");
        solution.Append($"#### {current}");
        return (question.ToString(), solution.ToString(), current.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Operand range that keeps the running total in 0..MaxResult, or null when the operation cannot apply.</summary>
    private (int Low, int High)? Bounds(ArithmeticOperation operation, int current)
    {
        var high = operation switch
        {
            ArithmeticOperation.Add => Math.Min(_options.MaxOperand, _options.MaxResult - current),
            ArithmeticOperation.Subtract => Math.Min(_options.MaxOperand, current),
            ArithmeticOperation.Multiply => current == 0 ? 0 : Math.Min(_options.MaxOperand, _options.MaxResult / current),
            _ => HasDivisor(current, _options.MaxOperand) ? _options.MaxOperand : 0,
        };
        var low = operation is ArithmeticOperation.Multiply or ArithmeticOperation.Divide ? 2 : 1;
        return high >= low ? (low, high) : null;
    }

    private static bool HasDivisor(int value, int maxDivisor) =>
        value >= 2 && Enumerable.Range(2, Math.Min(maxDivisor, value) - 1).Any(d => value % d == 0);

    private static int PickDivisor(Random random, int value, int low, int high)
    {
        var divisors = Enumerable.Range(low, Math.Min(high, value) - low + 1).Where(d => value % d == 0).ToList();
        return divisors[random.Next(divisors.Count)];
    }
}
