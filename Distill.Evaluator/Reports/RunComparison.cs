using System.Text;
using Distill.Core.Runs;
using Distill.Evaluator.Runs;

namespace Distill.Evaluator.Reports;

/// <summary>One run in the comparison: its newest successful evaluation, with the objective and threshold it trained under.</summary>
public sealed record ComparisonRow(
    string RunId,
    string Objective,
    double Threshold,
    int Step,
    double GreedyAccuracy,
    double SampledPassAt1,
    double SatisfactionRate,
    double CostMean,
    double MeanResponseTokens);

/// <summary>A run that could not be compared, and why.</summary>
public sealed record ComparisonError(string RunDirectory, string Error);

/// <summary>The <c>compare</c> command's table over runs; a run without a usable evaluation is an error row, the others still compare.</summary>
public sealed record RunComparison(IReadOnlyList<ComparisonRow> Rows, IReadOnlyList<ComparisonError> Errors)
{
    public const string MarkdownFileName = "comparison.md";
    public const string JsonFileName = "comparison.json";
    public const string ParetoFileName = "pareto.png";

    public static readonly string[] Columns =
        ["run", "objective", "threshold d", "step", "accuracy", "pass@1", "CSR at d", "mean KL", "mean tokens"];

    public static RunComparison Load(IEnumerable<string> runDirectories)
    {
        var rows = new List<ComparisonRow>();
        var errors = new List<ComparisonError>();
        foreach (var path in runDirectories)
        {
            try
            {
                rows.Add(LoadRow(new RunDirectory(path)));
            }
            catch (Exception error) when (error is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                errors.Add(new ComparisonError(path, error.Message));
            }
        }
        return new(rows, errors);
    }

    /// <summary>One row per run as text cells, in <see cref="Columns"/> order, for any table renderer.</summary>
    public IEnumerable<string[]> Cells() => Rows.Select(row => new[]
    {
        row.RunId,
        row.Objective,
        Format.Invariant($"{row.Threshold:0.###}"),
        Format.Invariant($"{row.Step}"),
        Format.Percent(row.GreedyAccuracy),
        Format.Percent(row.SampledPassAt1),
        Format.Percent(row.SatisfactionRate),
        Format.Invariant($"{row.CostMean:0.###}"),
        Format.Invariant($"{row.MeanResponseTokens:0.#}"),
    });

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", Columns) + " |");
        text.AppendLine("|" + string.Concat(Enumerable.Repeat(" --- |", Columns.Length)));
        foreach (var cells in Cells())
            text.AppendLine("| " + string.Join(" | ", cells) + " |");
        if (Errors.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Runs left out:");
            text.AppendLine();
            foreach (var error in Errors)
                text.AppendLine($"- `{error.RunDirectory}`: {error.Error}");
        }
        return text.ToString();
    }

    /// <summary>Writes <c>comparison.md</c>, <c>comparison.json</c> and the Pareto plot (when any run compares).</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        Core.Safetensors.AtomicWrite.WriteText(Path.Combine(directory, MarkdownFileName), ToMarkdown());
        RunDirectory.WriteJsonAtomically(Path.Combine(directory, JsonFileName), this, EvaluationStore.Json);
        if (Rows.Count > 0)
            EvaluationPlots.SavePareto(Path.Combine(directory, ParetoFileName),
                Rows.Select(row => new ParetoPoint(row.RunId, row.Objective, row.GreedyAccuracy, row.SatisfactionRate, row.CostMean)).ToArray());
    }

    private static ComparisonRow LoadRow(RunDirectory run)
    {
        if (!Directory.Exists(run.Path))
            throw new DirectoryNotFoundException($"{run.Path}: no such run directory.");
        if (!File.Exists(run.ManifestPath))
            throw new FileNotFoundException($"{run.ManifestPath}: missing; not a run directory.");
        var manifest = run.ReadManifest();
        var latest = EvaluationStore.ReadAll(run).LastOrDefault(stored => stored.Succeeded)?.Evaluation
                     ?? throw new InvalidDataException($"{run.Path}: no successful evaluation yet.");
        var metrics = latest.Metrics;
        return new ComparisonRow(manifest.RunId, manifest.Objective, latest.Constraint.Threshold, latest.Step,
            metrics.GreedyAccuracy, metrics.SampledPassAt1, metrics.SatisfactionRate, metrics.CostMean, metrics.MeanResponseTokens);
    }
}
