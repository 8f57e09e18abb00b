using Distill.AppHost;
using Distill.CommandLine;
using Distill.Core.Contracts;
using Distill.Core.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// The platform's resource graph: cache ← teacher ← trainer, evaluator; the default models are trained first when
// absent. Settings are flags over configuration, checked before anything starts.
var (flags, exitCode) = await AppHostFlags.ParseAsync(args);
if (flags is null) return exitCode;
if (AppHostSettings.Read(flags) is not { } settings) return ExitCodes.Usage;
if (await settings.AskTrainerAsync(CancellationToken.None) is not { } run) return ExitCodes.Usage;
var options = settings.Options;
Console.WriteLine($"apphost: run directory {run.RunDirectory}: {run.Reason}.");

var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
{
    Args = [],
    // Plain http is allowed because every listener is on loopback (AppHostOptions.Validate checks the dashboard's).
    AllowUnsecuredTransport = true,
    DisableDashboard = !options.Dashboard,
});
if (options.Dashboard) builder.UseLoopbackDashboard(options.DashboardUrl);
using var startupLogs = LoggerFactory.Create(logging => logging.AddSimpleConsole(o => o.SingleLine = true));
var logger = startupLogs.CreateLogger("Distill.AppHost");

var cache = builder.AddCache("cache", options.Cache, settings.DataDirectory, logger);

// Trains the default teacher and student on the first run; returns at once when they exist.
var models = builder.AddProject<Projects.Distill_StudentTrainer>("models", launchProfileName: null)
    .WithArgs("bootstrap", "--output", settings.ModelsDirectory, "--device", options.Device);

var teacher = builder.AddProject<Projects.Distill_TeacherService>("teacher", launchProfileName: null)
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReference(cache).WaitFor(cache)
    .WaitForCompletion(models)
    .WithEnvironment("Teacher__Backend", options.TeacherBackend)
    .WithEnvironment("Teacher__ModelPath", options.TeacherBackend == TeacherBackends.OpenAI ? "" : settings.TeacherModel)
    .WithEnvironment("Teacher__OpenAI__BaseAddress", options.TeacherUrl ?? "")
    .WithEnvironment("Teacher__Device", options.Device);

builder.AddProject<Projects.Distill_StudentTrainer>("trainer", launchProfileName: null)
    .WithHttpEndpoint()
    .WithReference(teacher).WaitFor(teacher)
    .WithArgs([.. settings.TrainingFlags, "--run-dir", run.RunDirectory, "--resume"])
    .WithHttpCommand("/checkpoint", "Checkpoint now", commandName: "checkpoint-now", commandOptions: new HttpCommandOptions
    {
        Description = "Write a checkpoint after the step in progress (the evaluator then evaluates it).",
        Method = HttpMethod.Post,
        IconName = "Save",
        GetCommandResult = ServiceCommands.ResultAsync,
    });

builder.AddProject<Projects.Distill_Evaluator>("evaluator", launchProfileName: null)
    .WithHttpEndpoint()
    .WithReference(teacher).WaitFor(teacher)
    .WithArgs(["watch", "--run-dir", run.RunDirectory, "--teacher-checkpoint", settings.TeacherModel, "--device", options.Device,
        "--problems", options.EvalProblems.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // The default teacher has a blind spot by design (docs/default-models.md): report its family apart.
        .. options.TeacherModel is null && options.TeacherBackend != TeacherBackends.OpenAI ? ["--blind-spot", TeacherBlindSpot.Default.Verb] : Array.Empty<string>()])
    .WithEnvironment("Evaluator__EvaluateStart", "true")
    .WithEnvironment("Evaluator__KeepServing", options.KeepRunning ? "true" : "false")
    .WithUrls(urls =>
    {
        if (urls.Urls.FirstOrDefault(u => u.Endpoint?.EndpointName == "http") is { } api)
            urls.Urls.Add(new ResourceUrlAnnotation { Url = api.Url.TrimEnd('/') + "/reports", DisplayText = "Evaluation reports" });
    })
    .WithHttpCommand("/evaluations/latest", "Evaluate latest checkpoint", commandName: "evaluate-latest", commandOptions: new HttpCommandOptions
    {
        Description = "Evaluate the run's newest checkpoint now, if it has no evaluation yet.",
        Method = HttpMethod.Post,
        IconName = "DataArea",
        GetCommandResult = ServiceCommands.ResultAsync,
    });

builder.AddRunSupervisor(new SupervisionPlan(
    Restartable: ["teacher", "trainer", "evaluator"], Trainer: "trainer", Evaluator: "evaluator", Jobs: ["models"],
    MaxRestarts: options.MaxRestarts, KeepRunning: options.KeepRunning));
// A run the supervisor stops while a resource still waits on another ends Aspire's start-up with a cancellation;
// the supervisor has said why, so the host's stack trace of it is noise.
// Aspire's health probes of a resource that stopped log failures too; the dashboard shows its health.
builder.Services.AddLogging(logging => logging
    .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None)
    .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));

var app = builder.Build();
// Until the run completes, stopping (Ctrl+C, SIGTERM) is not success.
Environment.ExitCode = 1;
await app.RunAsync();
Console.WriteLine(Environment.ExitCode == 0
    ? $"Done. Run: {run.RunDirectory}; evaluation reports and plots: {Path.Combine(run.RunDirectory, "evaluations")}."
    : $"Stopped (exit code {Environment.ExitCode}). Run: {run.RunDirectory}; it resumes from its last checkpoint when started again.");
return Environment.ExitCode;
