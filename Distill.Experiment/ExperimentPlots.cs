using Distill.Evaluator.Evaluation;
using ScottPlot;

namespace Distill.Experiment;

/// <summary>The experiment's two figures: accuracy against constraint satisfaction, and the training curves.</summary>
public static class ExperimentPlots
{
    private const int PanelWidth = 520, PanelHeight = 440, LegendWidth = 220;

    // A frontier has a dozen methods or more (kl-penalty alone at six λ₀): a 10-colour palette gave two of them one colour.
    private static readonly IPalette MethodColors = new ScottPlot.Palettes.Tsitsulin();

    /// <summary>
    /// One panel per d: greedy accuracy against CSR at d on the held-out set; a small marker per seed, a large one for the
    /// mean over seeds, a hollow circle for a method's runs trained at another d, a black triangle for the starting
    /// student. Up and to the right is better.
    /// </summary>
    public static void SavePareto(string path, ExperimentReport report)
    {
        var thresholds = report.Options.ThresholdValues;
        var methods = report.Summaries.Select(s => s.Method).Distinct().ToArray();
        var multiplot = Panels(thresholds.Count, rows: 1);
        for (int column = 0; column < thresholds.Count; column++)
        {
            var d = thresholds[column];
            var plot = multiplot.GetPlot(column);
            for (int m = 0; m < methods.Length; m++)
            {
                var color = MethodColors.GetColor(m);
                var runs = report.Outcomes.Where(o => o.Group == RunGroup.Main && o.Method == methods[m] && o.Threshold == d).ToArray();
                if (runs.Length == 0) continue;
                var seeds = plot.Add.ScatterPoints(runs.Select(r => r.SatisfactionRate).ToArray(), runs.Select(r => r.GreedyAccuracy).ToArray(), color);
                seeds.MarkerSize = 6;
                var mean = plot.Add.ScatterPoints(new[] { runs.Average(r => r.SatisfactionRate) }, new[] { runs.Average(r => r.GreedyAccuracy) }, color);
                mean.MarkerSize = 16;
                mean.MarkerShape = MarkerShape.FilledDiamond;
                mean.LegendText = methods[m];
            }
            // The d sweep: each method's runs trained at another d, as hollow circles in the method's colour.
            foreach (var cell in report.OtherThresholds.Where(o => o.Threshold == d).GroupBy(o => (o.Method, TrainedAt: o.TrainedAt!.Value)))
            {
                var color = MethodColors.GetColor(Array.IndexOf(methods, cell.Key.Method) is var m and >= 0 ? m : methods.Length);
                var mean = plot.Add.ScatterPoints(new[] { cell.Average(r => r.SatisfactionRate) }, new[] { cell.Average(r => r.GreedyAccuracy) }, color);
                mean.MarkerSize = 14;
                mean.MarkerShape = MarkerShape.OpenCircle;
                mean.LegendText = $"{cell.Key.Method} trained at d = {ExperimentPlan.Number(cell.Key.TrainedAt)}";
            }
            foreach (var start in report.Start.Where(s => s.Threshold == d))
            {
                var marker = plot.Add.ScatterPoints(new[] { start.SatisfactionRate }, new[] { start.GreedyAccuracy }, Colors.Black);
                marker.MarkerSize = 14;
                marker.MarkerShape = MarkerShape.FilledTriangleUp;
                marker.LegendText = "start";
            }
            plot.Title($"d = {ExperimentPlan.Number(d)}");
            plot.XLabel("constraint satisfaction rate (held-out samples)");
            plot.YLabel("greedy accuracy (held-out)");
            // Outside the data area: inside, a corner legend hid the worst runs' markers; below it, a dozen entries were cut off.
            plot.ShowLegend(Edge.Right);
        }
        // The legend beside a panel wraps into a second, clipped column once it is taller than the panel.
        var entries = methods.Length + 1 + thresholds.Max(d => report.OtherThresholds.Where(o => o.Threshold == d)
            .Select(o => (o.Method, o.TrainedAt)).Distinct().Count());
        Save(multiplot, path, thresholds.Count, 1, LegendWidth, Math.Max(PanelHeight, 80 + 26 * entries));
    }

    /// <summary>
    /// Top row, one panel per d: mean sequence KL per training step (mean over seeds, then the evaluator's trailing mean
    /// over <see cref="Evaluator.Reports.EvaluationPlots.SmoothingWindow"/> steps), d dashed. Bottom row: the training
    /// reward (share of correct samples) per step. d-free methods appear in every column; sft, which samples nothing
    /// while it trains, has no curve (and keeps its colour index, so colours match the Pareto panels).
    /// With <c>--eval-every-checkpoint</c>, open circles mark the held-out evaluations of the checkpoints.
    /// </summary>
    public static void SaveTrainingCurves(string path, ExperimentOptions options, IReadOnlyList<RunResult> results)
    {
        var thresholds = options.ThresholdValues;
        var main = results.Where(r => r.Run.Group == RunGroup.Main && r.Metrics.Count > 0).ToArray();
        var methods = main.Select(r => r.Run.Method).Distinct().ToArray();
        var multiplot = Panels(thresholds.Count, rows: 2);
        for (int column = 0; column < thresholds.Count; column++)
        {
            var d = thresholds[column];
            var cost = multiplot.GetPlot(column);
            var reward = multiplot.GetPlot(thresholds.Count + column);
            for (int m = 0; m < methods.Length; m++)
            {
                var runs = main.Where(r => r.Run.Method == methods[m] && (!r.Run.UsesThreshold || r.Run.Threshold == d)).ToArray();
                if (runs.Length == 0 || runs[0].Run.IsSupervised) continue;
                var color = MethodColors.GetColor(m);
                AddCurve(cost, runs, metrics => metrics.CostMean, methods[m], color);
                AddCurve(reward, runs, metrics => metrics.Reward, methods[m], color);
                AddCheckpoints(cost, runs, options.Steps, evaluation => evaluation.Metrics.CostMean, color);
                AddCheckpoints(reward, runs, options.Steps, evaluation => evaluation.Metrics.SampledPassAt1, color);
            }
            var (markedCost, markedReward) = options.EvaluateEveryCheckpoint ? (" (circles: held-out)", " (circles: held-out pass@1)") : ("", "");
            var line = cost.Add.HorizontalLine(d);
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Black;
            cost.Title($"mean sequence KL while training, d = {ExperimentPlan.Number(d)}{markedCost}");
            cost.XLabel("step");
            cost.YLabel("mean KL of the step's samples");
            cost.HideLegend();
            reward.Title($"training reward, d = {ExperimentPlan.Number(d)}{markedReward}");
            reward.XLabel("step");
            reward.YLabel("share of correct samples");
            // The reward moves by a few points in a short run: a 0–1 axis would flatten it. One legend for both rows,
            // beside the data area so that it hides no curve.
            reward.ShowLegend(Edge.Right);
        }
        Save(multiplot, path, thresholds.Count, 2, LegendWidth, PanelHeight);
    }

    private static void AddCurve(Plot plot, RunResult[] runs, Func<Core.Runs.TrainingStepMetrics, double> value, string legend, Color color)
    {
        int steps = runs.Min(r => r.Metrics.Count);
        var mean = Enumerable.Range(0, steps).Select(i => runs.Average(r => value(r.Metrics[i]))).ToArray();
        var smoothed = Evaluator.Reports.EvaluationPlots.TrailingMean(mean);
        var line = plot.Add.ScatterLine(Enumerable.Range(1, steps).Select(s => (double)s).ToArray(), smoothed, color);
        line.LegendText = legend;
        line.LineWidth = 2;
    }

    /// <summary>
    /// The held-out evaluations of the runs' checkpoints (<c>--eval-every-checkpoint</c>), the mean over seeds at each step
    /// every run has, as open circles on the training curve's axes: held-out pass@1 beside the training reward (both the
    /// share of correct samples), held-out mean KL beside the training batches'.
    /// </summary>
    private static void AddCheckpoints(Plot plot, RunResult[] runs, int finalStep, Func<CheckpointEvaluation, double> value, Color color)
    {
        if (runs.Any(r => r.EarlierCheckpoints is null || r.Evaluation is null)) return;
        var byStep = runs.Select(r => r.EarlierCheckpoints!.Where(s => s.Evaluation is not null)
            .Select(s => (s.Step, Value: value(s.Evaluation!))).Append((Step: finalStep, Value: value(r.Evaluation!)))
            .ToDictionary(p => p.Step, p => p.Value)).ToArray();
        var steps = byStep.Skip(1).Aggregate((IEnumerable<int>)byStep[0].Keys, (common, run) => common.Intersect(run.Keys)).Order().ToArray();
        var points = plot.Add.ScatterPoints(steps.Select(s => (double)s).ToArray(), steps.Select(s => byStep.Average(run => run[s])).ToArray(), color);
        points.MarkerShape = MarkerShape.OpenCircle;
        points.MarkerSize = 10;
    }

    private static Multiplot Panels(int columns, int rows)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(columns * rows);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows: rows, columns: columns);
        return multiplot;
    }

    private static void Save(Multiplot multiplot, string path, int columns, int rows, int legendWidth, int panelHeight)
    {
        Core.Safetensors.AtomicWrite.WriteThrough(path, temporary =>
            multiplot.SavePng(temporary, (PanelWidth + legendWidth) * columns, panelHeight * rows));
    }
}
