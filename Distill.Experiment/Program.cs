using System.Diagnostics;
using System.Runtime.InteropServices;
using Distill.CommandLine;
using Distill.Core.Progress;
using Distill.Experiment;
using Distill.StudentTrainer.Bootstrap;

// libtorch's CPU kernels pinned to AVX2 before the first tensor, so a seed trains the same model on any x64 machine.
Distill.Core.Torch.CpuKernels.PinForReproducibility();

// Does the constrained method keep the student within budget without losing accuracy? Every objective from the same
// warm-started student, over thresholds and seeds, on one schedule; every final checkpoint evaluated on one held-out
// set; then the table, the Pareto plot and the training curves. Runs already done are read back, so a stopped
// experiment continues where it stopped.
return await ExperimentOptions.CreateCommand(RunAsync).InvokeAsync(args);

async Task<int> RunAsync(ExperimentOptions options)
{
    var clock = Stopwatch.StartNew();

    // The default teacher and student, trained here on first use (a no-op when they exist).
    var models = Path.GetFullPath(options.Models);
    if (await BootstrapCommand.RunAsync(new BootstrapOptions { Output = models, Device = options.Device }) is not 0 and var bootstrapFailed)
        return bootstrapFailed;

    // Runs and evaluations in --out are read back only if they started from these models.
    ExperimentModels.Check(options);

    // From here Ctrl+C or SIGTERM stops the experiment at its next step rather than killing it mid-write (during the
    // bootstrap above either still ends the process: its report is written last, so a killed bootstrap starts again).
    using var stop = StopSignals.Register();
    try
    {
        await using var teacher = await ExperimentTeacher.StartAsync(Path.Combine(models, "teacher"), options.Device, stop.Token);
        using var runner = new ExperimentRunner(options, teacher.Address, Console.Out);

        var plan = ExperimentPlan.Create(options);
        Console.WriteLine($"Experiment: {plan.Count} runs of {options.Steps} steps; teacher at {teacher.Address}; output in {Path.GetFullPath(options.Output)}.");
        var start = await runner.EvaluateStartAsync(stop.Token);
        var results = await ConsoleProgress.RunAsync("Experiment", plan.Count, "runs", async progress =>
        {
            var results = new List<RunResult>();
            foreach (var run in plan)
            {
                results.Add(await runner.RunAsync(run, stop.Token));
                progress.Advance(status: run.Name);
            }
            return results;
        });

        var machine = $"{RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} cores, " +
                      $".NET {Environment.Version}, device {options.Device}";
        var report = ExperimentReport.Create(options, results, start, "dotnet run -c Release --project Distill.Experiment -- " + string.Join(' ', args),
            machine, clock.Elapsed.TotalSeconds);
        report.Write(Path.GetFullPath(options.Output), results);
        Console.WriteLine($"Done in {clock.Elapsed.TotalMinutes:0.0} min: {Path.Combine(Path.GetFullPath(options.Output), ExperimentReport.MarkdownFileName)}");
        return report.Failures.Count == 0 ? 0 : 1;
    }
    catch (OperationCanceledException) when (stop.StopRequested)
    {
        Console.Error.WriteLine($"Stopped after {clock.Elapsed.TotalMinutes:0.0} min. Finished runs and their evaluations are kept in " +
                                $"{Path.GetFullPath(options.Output)}; the same command continues, a stopped run from its last checkpoint.");
        return ExitCodes.Stopped;
    }
}
