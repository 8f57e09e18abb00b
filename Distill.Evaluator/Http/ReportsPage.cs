using System.Globalization;
using System.Net;
using System.Text;
using Distill.Core.Runs;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Reports;
using Distill.Evaluator.Runs;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator.Http;

/// <summary>
/// <c>GET /reports</c>: the evaluation reports a person looks at, linked from the evaluator's resource in the Aspire
/// dashboard. Per run, every evaluated step with its metrics and report, the newest step's plots, and the comparison
/// of all runs at their latest evaluation. Files are served read-only from each run's <c>evaluations</c> folder.
/// </summary>
public static class ReportsPage
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = CreateContentTypes();

    public static IEndpointRouteBuilder MapReportsPage(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/reports", (EvaluationCatalog catalog) => Results.Content(Render(catalog.Runs()), "text/html; charset=utf-8"));
        endpoints.MapGet("/reports/files/{run}/{**path}", ServeFile);
        endpoints.MapPost("/evaluations/latest", EvaluateLatestAsync);
        return endpoints;
    }

    /// <summary><c>POST /evaluations/latest</c>: the watched run's newest checkpoint, evaluated now unless it has a result.</summary>
    private static async Task<IResult> EvaluateLatestAsync(IOptions<EvaluatorOptions> options, EvaluationRunner runner, CancellationToken cancellationToken)
    {
        if (options.Value.RunDirectory is not { } directory)
            return Results.Problem("This evaluator watches no run (--run-dir).", statusCode: StatusCodes.Status404NotFound);
        var stored = await runner.EvaluateLatestAsync(new RunDirectory(directory), cancellationToken);
        return stored switch
        {
            null => Results.Problem("The run has announced no checkpoint yet.", statusCode: StatusCodes.Status404NotFound),
            { Evaluation: { } evaluation } => Results.Ok(new
            {
                message = $"step {stored.Step}: accuracy {evaluation.Metrics.GreedyAccuracy:P1}, CSR {evaluation.Metrics.SatisfactionRate:P1} at d = {evaluation.Constraint.Threshold}, mean KL {evaluation.Metrics.CostMean:0.###}",
                step = stored.Step,
            }),
            _ => Results.Problem(stored.Failure!.Error, title: $"Evaluation of step {stored.Step} failed", statusCode: StatusCodes.Status422UnprocessableEntity),
        };
    }

    private static IResult ServeFile(string run, string path, EvaluationCatalog catalog)
    {
        if (catalog.Runs().FirstOrDefault(r => EvaluationStore.RunIdOf(r) == run) is not { } found) return Results.NotFound();
        var root = Path.Combine(found.Path, "evaluations");
        if (!Directory.Exists(root)) return Results.NotFound();
        // PhysicalFileProvider refuses paths that climb out of its root, absolute paths and hidden files.
        using var files = new PhysicalFileProvider(Path.GetFullPath(root));
        var file = files.GetFileInfo(path);
        if (!file.Exists || file.IsDirectory || file.PhysicalPath is null || !ContentTypes.TryGetContentType(file.Name, out var contentType))
            return Results.NotFound();
        return Results.File(file.PhysicalPath, contentType, lastModified: file.LastModified);
    }

    internal static string Render(IReadOnlyList<RunDirectory> runs)
    {
        var html = new StringBuilder();
        html.Append("""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
            <title>Distill evaluation reports</title>
            <style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 24px}
            td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
            .plots{display:flex;gap:16px;flex-wrap:wrap}.plots img{width:560px;border:1px solid #ccc}.muted{color:#666}</style>
            </head><body><h1>Evaluation reports</h1>
            """);
        if (runs.Count == 0) html.Append("<p class=\"muted\">No run yet.</p>");
        foreach (var run in runs)
        {
            var id = EvaluationStore.RunIdOf(run);
            var evaluations = EvaluationStore.ReadAll(run).OrderBy(e => e.Step).ToArray();
            html.Append(CultureInfo.InvariantCulture, $"<h2 id=\"{Encode(id)}\">{Encode(id)}</h2><p class=\"muted\">{Encode(run.Path)}</p>");
            if (evaluations.Length == 0)
            {
                html.Append("<p class=\"muted\">No evaluation yet.</p>");
                continue;
            }
            html.Append("<table><thead><tr><th>step</th><th>accuracy</th><th>pass@1</th><th>CSR at d</th><th>d</th><th>mean KL</th><th>KL p90</th><th>estimator</th><th>report</th></tr></thead><tbody>");
            foreach (var stored in evaluations)
            {
                var folder = Path.GetFileName(run.EvaluationPath(stored.Step));
                if (stored.Evaluation is not { } e)
                {
                    html.Append(CultureInfo.InvariantCulture, $"<tr><td>{stored.Step}</td><td colspan=\"8\">failed: {Encode(stored.Failure!.Error)}</td></tr>");
                    continue;
                }
                html.Append(CultureInfo.InvariantCulture,
                    $"<tr><td>{stored.Step}</td><td>{e.Metrics.GreedyAccuracy:P1}</td><td>{e.Metrics.SampledPassAt1:P1}</td>" +
                    $"<td>{e.Metrics.SatisfactionRate:P1} ({e.Metrics.SatisfactionRateLow:P1} – {e.Metrics.SatisfactionRateHigh:P1})</td>" +
                    $"<td>{e.Constraint.Threshold}</td><td>{e.Metrics.CostMean:0.00}</td><td>{e.Metrics.CostP90:0.00}</td>" +
                    $"<td>{Encode(Core.Divergence.CostEstimators.Spelling(e.Constraint.Estimator))}</td>" +
                    $"<td><a href=\"{FileUrl(id, folder, EvaluationReportWriter.SummaryFileName)}\">summary.md</a></td></tr>");
            }
            html.Append("</tbody></table>");
            if (evaluations.LastOrDefault(e => e.Succeeded) is { } latest)
            {
                var folder = Path.GetFileName(run.EvaluationPath(latest.Step));
                html.Append(CultureInfo.InvariantCulture, $"<div class=\"plots\">");
                foreach (var plot in new[] { EvaluationReportWriter.TrainingCurvesFileName, EvaluationReportWriter.CostDistributionFileName })
                    if (File.Exists(Path.Combine(run.EvaluationPath(latest.Step), plot)))
                        html.Append(CultureInfo.InvariantCulture, $"<figure><a href=\"{FileUrl(id, folder, plot)}\"><img src=\"{FileUrl(id, folder, plot)}\" alt=\"{Encode(plot)} of step {latest.Step}\"></a><figcaption>{Encode(plot)}, step {latest.Step} (click for full size)</figcaption></figure>");
                html.Append("</div>");
            }
        }
        if (runs.Count > 0)
        {
            var comparison = RunComparison.Load(runs.Select(r => r.Path));
            html.Append("<h2>Runs compared at their latest evaluation</h2><table><thead><tr>");
            foreach (var column in RunComparison.Columns) html.Append(CultureInfo.InvariantCulture, $"<th>{Encode(column)}</th>");
            html.Append("</tr></thead><tbody>");
            foreach (var cells in comparison.Cells())
                html.Append("<tr>").AppendJoin("", cells.Select(c => $"<td>{Encode(c)}</td>")).Append("</tr>");
            html.Append("</tbody></table>");
        }
        return html.Append("</body></html>").ToString();
    }

    private static string FileUrl(string run, string folder, string file) =>
        $"/reports/files/{Uri.EscapeDataString(run)}/{Uri.EscapeDataString(folder)}/{Uri.EscapeDataString(file)}";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static FileExtensionContentTypeProvider CreateContentTypes()
    {
        var provider = new FileExtensionContentTypeProvider();
        provider.Mappings[".md"] = "text/markdown; charset=utf-8";
        provider.Mappings[".jsonl"] = "application/x-ndjson";
        return provider;
    }
}
