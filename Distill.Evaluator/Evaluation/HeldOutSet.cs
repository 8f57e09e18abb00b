using System.Text.Json;
using Distill.Core.Configuration;
using Distill.Core.Tasks;

namespace Distill.Evaluator.Evaluation;

/// <summary>The held-out problems every checkpoint (and the teacher) is evaluated on, the same for all of them.</summary>
public sealed record HeldOutSet(string Name, IReadOnlyList<MathProblem> Problems)
{
    /// <summary>
    /// The first <c>--problems</c> of the <c>--data</c> file (GSM8K or MATH JSONL, told apart by their fields), or that
    /// many generated problems of <c>--split</c> (test by default), which the trainer's train split never contains.
    /// </summary>
    /// <remarks>Synchronous: it runs once, at start-up, before anything else can happen.</remarks>
    public static HeldOutSet Load(EvaluatorOptions options)
    {
        if (options.DataFile is not { } path)
        {
            var generated = new MathProblemGenerator().Generate(options.Split, options.DataSeed, options.Problems);
            return new HeldOutSet($"generated-{KebabCaseEnum.Spelling(options.Split)}-seed-{options.DataSeed}", generated);
        }
        var problems = IsGsm8k(path)
            ? MathDatasetLoader.ReadGsm8kAsync(path)
            : MathDatasetLoader.ReadMathAsync(path);
        var held = problems.ToBlockingEnumerable().Take(options.Problems).ToArray();
        if (held.Length == 0) throw new InvalidDataException($"{path}: no problems in the --data file.");
        return new HeldOutSet(Path.GetFileNameWithoutExtension(path), held);
    }

    /// <summary>GSM8K lines have a <c>question</c> field, MATH lines a <c>problem</c> field.</summary>
    private static bool IsGsm8k(string path)
    {
        var first = File.ReadLines(path).FirstOrDefault(line => !string.IsNullOrWhiteSpace(line))
                    ?? throw new InvalidDataException($"{path}: the --data file is empty.");
        try
        {
            using var document = JsonDocument.Parse(first);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("question", out _);
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}:1: malformed JSON: {error.Message}", error);
        }
    }
}
