using Distill.CommandLine;
using Distill.Core.Progress;
using Distill.Core.Runs;
using Distill.Evaluator;
using Distill.Evaluator.Cli;
using Distill.Evaluator.Evaluation;
using Distill.Evaluator.Reports;
using Microsoft.Extensions.Options;
using Spectre.Console;

// libtorch's CPU kernels pinned to AVX2 before the first tensor, so a seed trains the same model on any x64 machine.
Distill.Core.Torch.CpuKernels.PinForReproducibility();

// One binary, four uses: serve stored evaluations over HTTP (the default), evaluate checkpoints once, watch a run while
// it trains (serving as it goes), and compare finished runs.
var commandLine = new EvaluatorCommandLine().Create(serve: ServeAsync, evaluate: EvaluateAsync, watch: WatchAsync, compare: CompareAsync);
try
{
    return await commandLine.InvokeAsync(args);
}
catch (OptionsValidationException invalid)
{
    // Bad settings are the user's to fix: say which, without a stack trace.
    foreach (var failure in invalid.Failures) Console.Error.WriteLine($"error: {failure}");
    return ExitCodes.Usage;
}

async Task<int> ServeAsync(CommandInput input, CancellationToken cancellationToken)
{
    await using var app = EvaluatorWebApplication.Create(input);
    await app.RunAsync(cancellationToken);
    return 0;
}

async Task<int> WatchAsync(CommandInput input, CancellationToken cancellationToken)
{
    await using var app = EvaluatorWebApplication.Create(input);
    await app.StartAsync(cancellationToken);
    using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, app.Lifetime.ApplicationStopping);
    var run = new RunDirectory(app.Services.GetRequiredService<IOptions<EvaluatorOptions>>().Value.RunDirectory!);
    // Exit code for an orchestrator waiting on this process: 0 once the run is complete and its final checkpoint evaluated.
    var exitCode = await app.Services.GetRequiredService<EvaluationRunner>().WatchAsync(run, stopping.Token);
    if (app.Services.GetRequiredService<IOptions<EvaluatorOptions>>().Value.KeepServing)
    {
        // The reports stay browsable until the host is stopped (Ctrl+C, or the AppHost stopping).
        try { await Task.Delay(Timeout.Infinite, stopping.Token); }
        catch (OperationCanceledException) { }
    }
    await app.StopAsync(CancellationToken.None);
    return exitCode;
}

async Task<int> EvaluateAsync(CommandInput input, CancellationToken cancellationToken)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Configuration.AddInMemoryCollection(input.Configuration);
    builder.AddServiceDefaults();
    builder.AddEvaluator();
    using var host = builder.Build();
    await host.StartAsync(cancellationToken);
    var options = host.Services.GetRequiredService<IOptions<EvaluatorOptions>>().Value;
    var runner = host.Services.GetRequiredService<EvaluationRunner>();
    var exitCode = await ConsoleProgress.RunAsync("Evaluating", options.Checkpoints.Count, "checkpoints",
        progress => runner.EvaluateCheckpointsAsync(options.Checkpoints, cancellationToken, progress));
    await host.StopAsync(CancellationToken.None);
    return exitCode;
}

Task<int> CompareAsync(CommandInput input, CancellationToken cancellationToken)
{
    var comparison = RunComparison.Load(input.RunDirectories);
    var table = new Table().Title("Runs compared at their latest evaluated checkpoint");
    foreach (var column in RunComparison.Columns) table.AddColumn(column);
    foreach (var cells in comparison.Cells()) table.AddRow(cells.Select(Markup.Escape).ToArray());
    AnsiConsole.Write(table);
    foreach (var error in comparison.Errors) AnsiConsole.MarkupLineInterpolated($"[red]{error.RunDirectory}[/]: {error.Error}");

    var output = input.Configuration.GetValueOrDefault($"{EvaluatorOptions.SectionName}:OutputDirectory") ?? "comparison";
    comparison.Write(output);
    AnsiConsole.MarkupLineInterpolated($"Table, JSON and Pareto plot in [bold]{Path.GetFullPath(output)}[/].");
    return Task.FromResult(comparison.Errors.Count == 0 ? 0 : 1);
}
