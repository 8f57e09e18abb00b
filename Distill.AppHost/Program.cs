using Distill.AppHost;
using Distill.AppHost.Hosting;
using Distill.CommandLine;
using Distill.Dashboard;
using Distill.ServiceDefaults;
using Microsoft.Extensions.Configuration;

// The resource graph of the platform, as an Aspire app host would declare it:
// redis ← teacher ← trainer → evaluator, with the default models trained first when absent.
AppHostOptions options;
try
{
    var configuration = new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
        .AddInMemoryCollection(FlagCommandLine.ToConfiguration(AppHostFlags.Keys.Select(flag => AppHostFlags.Booleans.Contains(flag.Key)
            ? Flag.Switch(flag.Key, flag.Value, "") : Flag.Value(flag.Key, flag.Value, "")), args))
        .Build();
    options = configuration.Get<AppHostOptions>() ?? new AppHostOptions();
}
catch (Exception error) when (error is OptionsValidationProblem or InvalidOperationException)
{
    Console.Error.WriteLine($"error: {error.Message}");
    return 2;
}
if (options.Validate() is { Count: > 0 } problems)
{
    foreach (var problem in problems) Console.Error.WriteLine($"error: {problem}");
    return 2;
}

var data = Path.GetFullPath(options.DataDirectory);
var models = Path.Combine(data, "models");
var teacherModel = options.TeacherModel is { } t ? Path.GetFullPath(t) : Path.Combine(models, "teacher");
var studentModel = options.Student is { } s ? Path.GetFullPath(s) : Path.Combine(models, "student");
RunSelection.Choice run;
try
{
    run = RunSelection.Choose(Path.Combine(data, "runs"), options, studentModel);
}
catch (Exception error) when (error is InvalidOperationException or IOException or System.Text.Json.JsonException or KeyNotFoundException)
{
    Console.Error.WriteLine($"error: {error.Message}");
    return 2;
}
var runDirectory = run.Directory;
ConsoleOutput.Status("apphost", $"run directory {runDirectory}: {run.Reason}.");
bool dashboardOn = options.OtlpEndpoint is null && !string.IsNullOrWhiteSpace(options.DashboardUrl);

var builder = DistributedApplicationFactory.CreateBuilder();

var cache = builder.AddRedis("cache");

// Trains the default teacher and student on the first run; a no-op once they exist.
var defaultModels = builder.AddProject("models", "Distill.StudentTrainer")
    .WithArgs("bootstrap", "--output", models, "--device", options.Device)
    .AsJob();

var teacher = builder.AddProject("teacher", "Distill.TeacherService")
    .WithHttpEndpoint()
    .WithReference(cache).WaitFor(cache)
    .WaitForCompletion(defaultModels)
    .WithEnvironment("Teacher__Backend", options.TeacherBackend)
    .WithEnvironment("Teacher__ModelPath", options.TeacherBackend == "openai" ? "" : teacherModel)
    .WithEnvironment("Teacher__OpenAI__BaseAddress", options.TeacherUrl ?? "")
    .WithEnvironment("Teacher__Device", options.Device)
    .WithRestarts(3);

var trainer = builder.AddProject("trainer", "Distill.StudentTrainer")
    .WithHttpEndpoint()
    .WithReference(teacher).WaitFor(teacher)
    .WithArgs("--student", studentModel, "--run-dir", runDirectory, "--objective", options.Objective,
        "--threshold", options.Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--steps", options.Steps.ToString(), "--checkpoint-every", options.CheckpointEvery.ToString(),
        "--dataset", options.Dataset, "--device", options.Device, "--resume")
    .WithRestarts(2)  // a restarted trainer resumes from its last checkpoint
    .AsJob();

builder.AddProject("evaluator", "Distill.Evaluator")
    .WithHttpEndpoint()
    .WithReference(teacher).WaitFor(teacher)
    .WithArgs("watch", "--run-dir", runDirectory, "--teacher-checkpoint", teacherModel, "--device", options.Device)
    .WithRestarts(2)
    .AsJob();

var app = builder.Build(data, otlpEndpoint: options.OtlpEndpoint ?? (dashboardOn ? options.DashboardUrl : null));

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });

await using var dashboard = dashboardOn
    ? await DashboardHost.StartAsync(o => { o.Url = options.DashboardUrl; o.OtlpGrpcUrl = options.DashboardOtlpGrpcUrl; o.ReportsDirectory = runDirectory; },
        new AppHostResources(app), stop.Token)
    : null;

int exitCode = await app.RunAsync(stop.Token, keepRunning: options.KeepRunning);
var evaluations = Path.Combine(runDirectory, "evaluations");
Console.WriteLine(exitCode == 0
    ? $"Done. Run: {runDirectory}; evaluation reports and plots: {evaluations}; logs: {app.LogDirectory}."
    : $"Stopped with exit code {exitCode}; logs: {app.LogDirectory}.");
return exitCode;
