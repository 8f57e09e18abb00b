using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Distill.Core.Tasks;

/// <summary>
/// Reads maths datasets from JSON Lines: GSM8K format (<c>question</c>, <c>answer</c> ending <c>#### x</c>) and
/// MATH format (<c>problem</c>, <c>solution</c> containing <c>\boxed{x}</c>). Blank lines are skipped; any other bad
/// line stops the read with an <see cref="InvalidDataException"/> naming the file, line and field.
/// </summary>
public static class MathDatasetLoader
{
    public static IAsyncEnumerable<MathProblem> ReadGsm8kAsync(string path, CancellationToken cancellationToken = default) =>
        ReadAsync(path, "question", "answer", (solution, where) =>
            AnswerChecker.ExtractFinalAnswer(solution) is { } answer && solution.Contains("####", StringComparison.Ordinal)
                ? answer
                : throw new InvalidDataException($"{where}: field 'answer' has no '#### <answer>' line."),
            cancellationToken);

    public static IAsyncEnumerable<MathProblem> ReadMathAsync(string path, CancellationToken cancellationToken = default) =>
        ReadAsync(path, "problem", "solution", (solution, where) =>
            AnswerChecker.ExtractLastBoxed(solution)
                ?? throw new InvalidDataException($"{where}: field 'solution' has no balanced, non-empty \\boxed{{...}}."),
            cancellationToken);

    private static async IAsyncEnumerable<MathProblem> ReadAsync(
        string path,
        string questionField,
        string solutionField,
        Func<string, string, string> extractAnswer,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        var name = Path.GetFileNameWithoutExtension(path);
        using var reader = new StreamReader(path);
        var lineNumber = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var where = $"{path}:{lineNumber}";
            string question;
            string solution;
            try
            {
                using var document = JsonDocument.Parse(line);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidDataException($"{where}: the line is not a JSON object.");
                }

                question = ReadString(document.RootElement, questionField, where);
                solution = ReadString(document.RootElement, solutionField, where);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{where}: malformed JSON: {e.Message}", e);
            }

            yield return new MathProblem($"{name}-{lineNumber}", question, solution, extractAnswer(solution, where));
        }
    }

    private static string ReadString(JsonElement line, string field, string where) =>
        line.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new InvalidDataException($"{where}: field '{field}' is missing, empty or not a string.");
}
