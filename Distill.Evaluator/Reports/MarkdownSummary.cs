using System.Globalization;
using System.Text;
using Distill.Evaluator.Evaluation;

namespace Distill.Evaluator.Reports;

/// <summary>The human-readable <c>summary.md</c> of one checkpoint's evaluation.</summary>
public static class MarkdownSummary
{
    public static string Render(CheckpointEvaluation evaluation)
    {
        var (constraint, heldOut, metrics) = (evaluation.Constraint, evaluation.HeldOut, evaluation.Metrics);
        var text = new StringBuilder();
        text.AppendLine(Invariant($"# {evaluation.RunId}, step {evaluation.Step}"));
        text.AppendLine();
        var estimator = constraint.Estimator == Core.Divergence.CostEstimator.TopKExact ? Invariant($"top-k-exact, k = {constraint.TopK}") : Format.Name(constraint.Estimator);
        text.AppendLine(Invariant($"Objective `{constraint.Objective}`, threshold d = {constraint.Threshold:0.###}. KL estimator: {estimator}; {Format.Name(constraint.Aggregation)} over tokens; CSR in {Format.Name(constraint.Scope)} scope. "));
        text.AppendLine(Invariant($"Held-out set `{heldOut.Dataset}`: {heldOut.Problems} problems, {heldOut.SamplesPerProblem} samples each at temperature {heldOut.Temperature:0.##}, at most {heldOut.MaxNewTokens} new tokens, seed {heldOut.Seed}."));
        text.AppendLine();
        text.AppendLine("| metric | value |");
        text.AppendLine("| --- | --- |");
        text.AppendLine(Invariant($"| accuracy, greedy | {Format.Percent(metrics.GreedyAccuracy)} |"));
        text.AppendLine(Invariant($"| pass@1, sampled | {Format.Percent(metrics.SampledPassAt1)} |"));
        text.AppendLine(Invariant($"| teacher accuracy, greedy | {(metrics.TeacherAccuracy is { } teacher ? Format.Percent(teacher) : "not measured")} |"));
        text.AppendLine(Invariant($"| constraint satisfaction rate at d (95 % CI, bootstrap over problems) | {Format.Percent(metrics.SatisfactionRate)} ({Format.Percent(metrics.SatisfactionRateLow)} – {Format.Percent(metrics.SatisfactionRateHigh)}) |"));
        text.AppendLine(Invariant($"| sequence KL: mean / p50 / p90 / max | {metrics.CostMean:0.###} / {metrics.CostP50:0.###} / {metrics.CostP90:0.###} / {metrics.CostMax:0.###} |"));
        text.AppendLine(Invariant($"| response length, mean tokens | {metrics.MeanResponseTokens:0.#} |"));
        text.AppendLine(Invariant($"| tokens generated | {metrics.GeneratedTokens} |"));
        if (evaluation.Subsets is { Count: > 0 } subsets)
        {
            text.AppendLine();
            text.AppendLine("By part of the held-out set (the teacher's blind-spot family and the rest):");
            text.AppendLine();
            text.AppendLine("| part | problems | accuracy, greedy | pass@1 | CSR at d | mean sequence KL |");
            text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var subset in subsets)
                text.AppendLine(Invariant($"| {subset.Name} | {subset.Problems} | {Format.Percent(subset.Metrics.GreedyAccuracy)} | {Format.Percent(subset.Metrics.SampledPassAt1)} | {Format.Percent(subset.Metrics.SatisfactionRate)} | {subset.Metrics.CostMean:0.###} |"));
        }
        text.AppendLine();
        text.AppendLine("Constraint satisfaction rate over thresholds (sequence scope, C ≤ d):");
        text.AppendLine();
        text.AppendLine("| d | CSR |");
        text.AppendLine("| --- | --- |");
        foreach (var point in metrics.SatisfactionSweep)
            text.AppendLine(Invariant($"| {point.Threshold:0.###}{(point.Threshold == constraint.Threshold ? " (run)" : "")} | {Format.Percent(point.Rate)} |"));
        text.AppendLine();
        text.AppendLine(Invariant($"Checkpoint `{evaluation.CheckpointPath}`, evaluated {evaluation.EvaluatedAt:u} in {evaluation.Seconds:0.#} s."));
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => Format.Invariant(text);
}

/// <summary>How reports write numbers and names, the same in Markdown, the console and plots.</summary>
public static class Format
{
    public static string Percent(double share) => (100 * share).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    /// <summary>
    /// <paramref name="value"/> to <paramref name="decimals"/> places with a typographic minus, rounded before the sign
    /// is chosen: .NET prints a negative value that rounds to zero as "-+0.00" under a "+0.00;−0.00" format.
    /// </summary>
    public static string Signed(double value, int decimals, bool plus = true)
    {
        var rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        var magnitude = Math.Abs(rounded).ToString("F" + decimals, CultureInfo.InvariantCulture);
        return rounded < 0 ? "−" + magnitude : plus ? "+" + magnitude : magnitude;
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The kebab-case name the JSON uses ("top-k-exact"), so reports and files name an option alike.</summary>
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum =>
        System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());
}
