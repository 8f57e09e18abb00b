using Distill.Core.Runs;
using Distill.Evaluator.Evaluation;
using ScottPlot;

namespace Distill.Evaluator.Reports;

/// <summary>One run's point in the Pareto view: how accurate it is against how well it kept its budget.</summary>
public sealed record ParetoPoint(string RunId, string Objective, double Accuracy, double SatisfactionRate, double CostMean);

/// <summary>The PNG plots of the reports (ScottPlot 5, rendered headless with SkiaSharp).</summary>
public static class EvaluationPlots
{
    public const int Width = 1000;
    public const int Height = 700;

    /// <summary>The training curves are larger: each panel carries a legend of up to four entries.</summary>
    public const int TrainingCurvesWidth = 1300;
    public const int TrainingCurvesHeight = 850;

    // One palette for every panel, so that a series and its held-out markers share a colour where they measure one thing.
    private static readonly IPalette SeriesColors = new ScottPlot.Palettes.Category10();

    /// <summary>The window of the training curves' trailing moving average, in steps.</summary>
    public const int SmoothingWindow = 5;

    /// <summary>
    /// Each value replaced by the mean of it and the <paramref name="window"/> − 1 before it (fewer at the start): the
    /// per-step training numbers of a batch of a few prompts swing by tens of points, and a trailing mean shows the trend
    /// without drawing a step before it happened.
    /// </summary>
    public static double[] TrailingMean(IReadOnlyList<double> values, int window = SmoothingWindow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var smoothed = new double[values.Count];
        double sum = 0;
        for (int i = 0; i < values.Count; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            smoothed[i] = sum / Math.Min(window, i + 1);
        }
        return smoothed;
    }

    /// <summary>
    /// Training curves from <c>metrics.jsonl</c> in a 2×2 grid: reward and accuracy, satisfaction rate, KL (mean and
    /// p90, with the threshold), and λ (empty for objectives without a multiplier). Each per-step series is drawn thin and
    /// faint, with its <see cref="TrailingMean"/> over it; the run's held-out evaluations up to the last step are marked
    /// on the same axes: greedy accuracy and pass@1 beside the training reward, the CSR at d with its 95 % interval beside
    /// the batches' CSR, the mean sequence KL beside the batches'.
    /// </summary>
    public static void SaveTrainingCurves(string path, IReadOnlyList<TrainingStepMetrics> metrics, double threshold,
        IReadOnlyList<CheckpointEvaluation> heldOut)
    {
        var steps = metrics.Select(m => (double)m.Step).ToArray();
        var evaluated = heldOut.OrderBy(e => e.Step).ToArray();
        var evaluatedSteps = evaluated.Select(e => (double)e.Step).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(4);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows: 2, columns: 2);

        var reward = multiplot.GetPlot(0);
        AddSmoothedLine(reward, steps, metrics.Select(m => m.Reward), "reward", Series(0));
        AddSmoothedLine(reward, steps, metrics.Select(m => m.Accuracy), "accuracy", Series(1));
        AddHeldOut(reward, evaluatedSteps, evaluated.Select(e => e.Metrics.GreedyAccuracy), "held-out greedy accuracy", MarkerShape.FilledSquare, Series(2));
        AddHeldOut(reward, evaluatedSteps, evaluated.Select(e => e.Metrics.SampledPassAt1), "held-out pass@1", MarkerShape.OpenCircle, Series(0));
        Label(reward, "Reward and accuracy", "value");

        var satisfaction = multiplot.GetPlot(1);
        AddSmoothedLine(satisfaction, steps, metrics.Select(m => m.ConstraintSatisfactionRate), "CSR at d, training batches", Series(0));
        AddHeldOut(satisfaction, evaluatedSteps, evaluated.Select(e => e.Metrics.SatisfactionRate), "held-out CSR at d (95 % CI)", MarkerShape.FilledCircle, Series(3));
        if (evaluated.Length > 0)
        {
            var interval = new ScottPlot.Plottables.ErrorBar(evaluatedSteps, evaluated.Select(e => e.Metrics.SatisfactionRate).ToArray(), null, null,
                evaluated.Select(e => e.Metrics.SatisfactionRate - e.Metrics.SatisfactionRateLow).ToArray(),
                evaluated.Select(e => e.Metrics.SatisfactionRateHigh - e.Metrics.SatisfactionRate).ToArray()) { Color = Series(3) };
            satisfaction.Add.Plottable(interval);
        }
        Label(satisfaction, "Constraint satisfaction rate", "share with C ≤ d");

        var cost = multiplot.GetPlot(2);
        AddSmoothedLine(cost, steps, metrics.Select(m => m.CostMean), "mean C", Series(0));
        AddSmoothedLine(cost, steps, metrics.Select(m => m.CostP90), "p90 C", Series(1));
        AddHeldOut(cost, evaluatedSteps, evaluated.Select(e => e.Metrics.CostMean), "held-out mean C", MarkerShape.OpenCircle, Series(0));
        var budget = cost.Add.HorizontalLine(threshold, pattern: LinePattern.Dashed);
        budget.Color = Colors.Black;
        budget.LegendText = "threshold d";
        Label(cost, "Sequence KL to the teacher", "C");

        var lambda = multiplot.GetPlot(3);
        var lambdaSteps = metrics.Where(m => m.Lambda is not null).ToArray();
        if (lambdaSteps.Length > 0)
            AddLine(lambda, lambdaSteps.Select(m => (double)m.Step).ToArray(), lambdaSteps.Select(m => m.Lambda!.Value), "λ");
        Label(lambda, lambdaSteps.Length > 0 ? "Multiplier λ" : "Multiplier λ (not used by this objective)", "λ");

        // Each legend in the corner its panel's data usually leave free (the CSR rises, the KL falls), and see-through.
        foreach (var (panel, corner) in new[] { (reward, Alignment.LowerLeft), (satisfaction, Alignment.LowerRight), (cost, Alignment.UpperRight), (lambda, Alignment.UpperLeft) })
        {
            panel.Legend.Alignment = corner;
            panel.Legend.BackgroundColor = Colors.White.WithAlpha(0.7);
        }
        Core.Safetensors.AtomicWrite.WriteThrough(path, temporary => multiplot.SavePng(temporary, TrainingCurvesWidth, TrainingCurvesHeight));
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

    /// <summary>The per-step values thin and faint, their trailing mean over them in the same colour, in the legend.</summary>
    private static void AddSmoothedLine(Plot plot, double[] steps, IEnumerable<double> values, string legend, Color color)
    {
        var raw = values.ToArray();
        var perStep = plot.Add.ScatterLine(steps, raw, color.WithAlpha(0.3));
        perStep.LineWidth = 1;
        var smoothed = plot.Add.ScatterLine(steps, TrailingMean(raw), color);
        smoothed.LineWidth = 2.5f;
        smoothed.LegendText = Format.Invariant($"{legend} ({SmoothingWindow}-step mean)");
    }

    private static Color Series(int index) => SeriesColors.GetColor(index);

    /// <summary>The held-out evaluations as large markers on the training curve's axes.</summary>
    private static void AddHeldOut(Plot plot, double[] steps, IEnumerable<double> values, string legend, MarkerShape shape,
        Color color)
    {
        var points = plot.Add.ScatterPoints(steps, values.ToArray(), color);
        points.MarkerShape = shape;
        points.MarkerSize = 11;
        points.LegendText = legend;
    }

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
