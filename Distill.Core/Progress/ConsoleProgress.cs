using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Distill.Core.Progress;

/// <summary>Where long work reports each finished step.</summary>
public interface IProgressSteps
{
    /// <summary>One (or <paramref name="count"/>) more steps done; <paramref name="status"/> says what is happening now.</summary>
    void Advance(int count = 1, string? status = null);

    /// <summary>A line worth keeping (a result): above the bar on a terminal, as is when redirected.</summary>
    void WriteLine(string line);
}

/// <summary>
/// The progress of long command-line work (the bootstrap, the experiment, evaluating many checkpoints): on a terminal a
/// Spectre.Console bar with the step, the rate and the time left; redirected (a log file, CI, an orchestrator reading
/// the output) one plain line per step instead, since a redrawn bar would fill a log with control codes.
/// </summary>
public static class ConsoleProgress
{
    /// <summary>Whether a live bar can be drawn: standard output is an interactive terminal.</summary>
    public static bool IsTerminal => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="work"/> of <paramref name="total"/> steps (counted in <paramref name="unit"/>) with a progress display.</summary>
    public static async Task<T> RunAsync<T>(string description, int total, string unit, Func<IProgressSteps, Task<T>> work)
    {
        if (!IsTerminal)
            return await work(new PlainLines(description, total, unit, Console.Out));
        T result = default!;
        await Bar(unit).StartAsync(async context =>
        {
            result = await work(new BarSteps(context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total))));
        });
        return result;
    }

    /// <summary>The synchronous form, for work that runs on the calling thread (training steps).</summary>
    public static T Run<T>(string description, int total, string unit, Func<IProgressSteps, T> work)
    {
        if (!IsTerminal)
            return work(new PlainLines(description, total, unit, Console.Out));
        return Bar(unit).Start(context => work(new BarSteps(context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total)))));
    }

    private static Spectre.Console.Progress Bar(string unit) => AnsiConsole.Progress()
        .AutoClear(false)
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new StepColumn(), new RateColumn(unit), new RemainingTimeColumn(), new SpinnerColumn());

    private sealed class BarSteps(ProgressTask task) : IProgressSteps
    {
        private readonly string description = task.Description;

        public void Advance(int count = 1, string? status = null)
        {
            task.Increment(count);
            task.Description = status is null ? description : $"{description}: {Markup.Escape(status)}";
        }

        public void WriteLine(string line) => AnsiConsole.MarkupLine(Markup.Escape(line));
    }

    /// <summary>
    /// "description: step 3/10, 0.25 runs/s, about 28 s left: status": a line per step, or per twentieth of the work when
    /// there are many steps (a log needs the trend, not every training step), and always the last.
    /// </summary>
    internal sealed class PlainLines(string description, int total, string unit, TextWriter output) : IProgressSteps
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private readonly int every = Math.Max(1, total / 20);
        private int done, written;

        public void Advance(int count = 1, string? status = null)
        {
            done += count;
            if (done - written < every && done < total) return;
            written = done;
            double rate = done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            var left = rate > 0 && total > done ? $", about {Duration((total - done) / rate)} left" : "";
            output.WriteLine($"{description}: step {done}/{total}, {Rate(rate, unit)}{left}{(status is null ? "" : $": {status}")}");
        }

        public void WriteLine(string line) => output.WriteLine(line);
    }

    internal static string Rate(double perSecond, string unit) =>
        perSecond >= 1 || perSecond == 0 ? $"{perSecond:0.##} {unit}/s" : $"{60 * perSecond:0.##} {unit}/min";

    internal static string Duration(double seconds) => TimeSpan.FromSeconds(Math.Round(seconds)) switch
    {
        { TotalHours: >= 1 } span => $"{(int)span.TotalHours} h {span.Minutes} min",
        { TotalMinutes: >= 1 } span => $"{span.Minutes} min {span.Seconds} s",
        var span => $"{span.Seconds} s",
    };

    private sealed class StepColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text($"{task.Value:0}/{task.MaxValue:0}");
    }

    private sealed class RateColumn(string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } speed ? Rate(speed, unit) : "");
    }
}
