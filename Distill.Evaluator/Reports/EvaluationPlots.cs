using Distill.Core.Runs;
using ScottPlot;

namespace Distill.Evaluator.Reports;

/// <summary>One run's point in the Pareto view: how accurate it is against how well it kept its budget.</summary>
public sealed record ParetoPoint(string RunId, string Objective, double Accuracy, double SatisfactionRate, double CostMean);

/// <summary>The PNG plots of the reports (ScottPlot 5, rendered headless with SkiaSharp).</summary>
public static class EvaluationPlots
{
    public const int Width = 1000;
    public const int Height = 700;

    /// <summary>
    /// Training curves from <c>metrics.jsonl</c> in a 2×2 grid: reward and accuracy, satisfaction rate, KL (mean and
    /// p90, with the threshold), and λ (empty for objectives without a multiplier).
    /// </summary>
    public static void SaveTrainingCurves(string path, IReadOnlyList<TrainingStepMetrics> metrics, double threshold)
    {
        var steps = metrics.Select(m => (double)m.Step).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(4);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows: 2, columns: 2);

        var reward = multiplot.GetPlot(0);
        AddLine(reward, steps, metrics.Select(m => m.Reward), "reward");
        AddLine(reward, steps, metrics.Select(m => m.Accuracy), "accuracy");
        Label(reward, "Reward and accuracy", "value");

        var satisfaction = multiplot.GetPlot(1);
        AddLine(satisfaction, steps, metrics.Select(m => m.ConstraintSatisfactionRate), "CSR at d");
        Label(satisfaction, "Constraint satisfaction rate", "share with C ≤ d");

        var cost = multiplot.GetPlot(2);
        AddLine(cost, steps, metrics.Select(m => m.CostMean), "mean C");
        AddLine(cost, steps, metrics.Select(m => m.CostP90), "p90 C");
        cost.Add.HorizontalLine(threshold, pattern: LinePattern.Dashed).LegendText = "threshold d";
        Label(cost, "Sequence KL to the teacher", "C");

        var lambda = multiplot.GetPlot(3);
        var lambdaSteps = metrics.Where(m => m.Lambda is not null).ToArray();
        if (lambdaSteps.Length > 0)
            AddLine(lambda, lambdaSteps.Select(m => (double)m.Step).ToArray(), lambdaSteps.Select(m => m.Lambda!.Value), "λ");
        Label(lambda, lambdaSteps.Length > 0 ? "Multiplier λ" : "Multiplier λ (not used by this objective)", "λ");

        Save(multiplot, path);
    }

    /// <summary>Histogram of the sampled completions' sequence costs, with the threshold d as a vertical line.</summary>
    public static void SaveCostDistribution(string path, IReadOnlyList<double> sequenceCosts, double threshold, string title)
    {
        var plot = new Plot();
        if (sequenceCosts.Count > 0)
        {
            var (low, high) = (Math.Min(sequenceCosts.Min(), threshold), Math.Max(sequenceCosts.Max(), threshold));
            // A single repeated value still gets a visible bar.
            if (high - low < 1e-9) (low, high) = (low - 0.5, high + 0.5);
            var histogram = ScottPlot.Statistics.Histogram.WithBinCount(BinCount(sequenceCosts.Count), low, high);
            histogram.AddRange(sequenceCosts);
            plot.Add.Histogram(histogram);
        }
        plot.Add.VerticalLine(threshold, pattern: LinePattern.Dashed).LegendText = Format.Invariant($"threshold d = {threshold:0.###}");
        plot.Title(title);
        plot.XLabel("sequence cost C (KL to the teacher)");
        plot.YLabel("samples");
        plot.ShowLegend();
        Save(plot, path);
    }

    /// <summary>Accuracy against satisfaction rate (left) and against mean KL (right), one labelled point per run.</summary>
    public static void SavePareto(string path, IReadOnlyList<ParetoPoint> runs)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows: 1, columns: 2);
        var bySatisfaction = multiplot.GetPlot(0);
        var byCost = multiplot.GetPlot(1);
        foreach (var objective in runs.GroupBy(run => run.Objective))
        {
            var color = bySatisfaction.Add.Palette.GetColor(bySatisfaction.GetPlottables().Count());
            AddPoints(bySatisfaction, objective.ToArray(), run => run.SatisfactionRate, objective.Key, color);
            AddPoints(byCost, objective.ToArray(), run => run.CostMean, objective.Key, color);
        }
        Label(bySatisfaction, "Accuracy against constraint satisfaction", "accuracy", "constraint satisfaction rate");
        Label(byCost, "Accuracy against KL to the teacher", "accuracy", "mean sequence KL");
        Save(multiplot, path);
    }

    private static void AddPoints(Plot plot, IReadOnlyList<ParetoPoint> runs, Func<ParetoPoint, double> x, string objective, Color color)
    {
        var scatter = plot.Add.ScatterPoints(runs.Select(x).ToArray(), runs.Select(run => run.Accuracy).ToArray(), color);
        scatter.MarkerSize = 10;
        scatter.LegendText = objective;
        foreach (var run in runs)
            plot.Add.Text(run.RunId, x(run), run.Accuracy).LabelFontSize = 11;
    }

    private static void AddLine(Plot plot, double[] steps, IEnumerable<double> values, string legend) =>
        plot.Add.ScatterLine(steps, values.ToArray()).LegendText = legend;

    private static void Label(Plot plot, string title, string yLabel, string xLabel = "step")
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend();
    }

    /// <summary>Square-root rule, within bounds that keep a handful of samples readable and thousands from looking like noise.</summary>
    private static int BinCount(int samples) => Math.Clamp((int)Math.Ceiling(Math.Sqrt(samples)), 5, 50);

    private static void Save(Plot plot, string path) =>
        Core.Safetensors.AtomicWrite.WriteThrough(path, temporary => plot.SavePng(temporary, Width, Height));

    private static void Save(Multiplot multiplot, string path) =>
        Core.Safetensors.AtomicWrite.WriteThrough(path, temporary => multiplot.SavePng(temporary, Width, Height));
}
