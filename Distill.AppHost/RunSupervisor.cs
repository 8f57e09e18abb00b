using System.Collections.Concurrent;
using Aspire.Hosting.Lifecycle;
using Distill.CommandLine;
using Distill.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Distill.AppHost;

/// <summary>What the supervisor watches: which resources are restarted on a crash, and which ones finishing ends the run.</summary>
public sealed record SupervisionPlan(
    IReadOnlyList<string> Restartable, string Trainer, string Evaluator, IReadOnlyList<string> Jobs, int MaxRestarts, bool KeepRunning);

/// <summary>
/// The run's policy on top of Aspire's resource events, which Aspire leaves to the app host: a crashed teacher,
/// trainer or evaluator is started again, at most <see cref="SupervisionPlan.MaxRestarts"/> times (the trainer resumes
/// from its last checkpoint); one that exits with 2 (bad settings) or 3 (cannot start) is not, since starting it again
/// meets the same problem. The run ends when the trainer and then the evaluator exit 0, or at the first failure, with
/// the reason on the console; with <c>--keep-running</c> the services and the dashboard stay up. The console shows the
/// resources' state changes and our services' own log lines; everything else is in the dashboard.
/// It starts on <see cref="BeforeStartEvent"/>, not as a hosted service: Aspire's start-up waits for every
/// <c>WaitFor</c>, so a hosted service registered after it would not run while a resource waits on a failed one.
/// </summary>
public sealed class RunSupervisor(
    SupervisionPlan plan, ResourceNotificationService notifications, ResourceLoggerService logs, ResourceCommandService commands,
    IHostApplicationLifetime lifetime, ILogger<RunSupervisor> logger)
{
    /// <summary>Exit codes that say "do not start me again": bad settings, and cannot start as configured.</summary>
    private static readonly int[] Final = [ExitCodes.Usage, ServiceExitCodes.CannotStart];

    private readonly ConcurrentDictionary<string, int> restarts = new();
    private readonly ConcurrentDictionary<string, string> states = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> errors = new();
    private readonly HashSet<string> watchedLogs = [];

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in notifications.WatchAsync(stoppingToken))
            {
                var name = change.Resource.Name;
                var state = change.Snapshot.State?.Text;
                if (string.IsNullOrEmpty(state) || !Watched(name)) continue;
                if (watchedLogs.Add(change.ResourceId)) _ = ForwardLogsAsync(name, change.ResourceId, stoppingToken);
                if (states.TryGetValue(change.ResourceId, out var previous) && previous == state) continue;
                states[change.ResourceId] = state;

                // Once stopping, every resource ends: that is the stop, not news.
                if (lifetime.ApplicationStopping.IsCancellationRequested) continue;
                bool ended = state == KnownResourceStates.Exited || state == KnownResourceStates.Finished;
                var exitCode = change.Snapshot.ExitCode;
                Console.WriteLine(ended ? $"{name}: exited with code {exitCode?.ToString() ?? "?"}" : $"{name}: {state}");
                if (state == KnownResourceStates.FailedToStart)
                    Fail($"{name} failed to start");
                else if (ended)
                    await OnExitAsync(name, change.ResourceId, exitCode ?? -1, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private bool Watched(string name) =>
        plan.Restartable.Contains(name) || plan.Jobs.Contains(name) || name == plan.Trainer || name == plan.Evaluator;

    private async Task OnExitAsync(string name, string resourceId, int exitCode, CancellationToken cancellationToken)
    {
        if (exitCode == 0)
        {
            if (name == plan.Trainer) return;
            // The evaluator's watch returns once the run is complete and its final checkpoint evaluated.
            if (name == plan.Evaluator) { Complete(); return; }
            if (plan.Jobs.Contains(name)) return;
            // A teacher that stops cleanly while the run goes on is a crash too: start it again below.
        }
        if (Final.Contains(exitCode) || !plan.Restartable.Contains(name))
        {
            Fail($"{name} exited with code {exitCode}{Reason(name)}");
            return;
        }
        int attempt = restarts.AddOrUpdate(name, 1, (_, n) => n + 1);
        if (attempt > plan.MaxRestarts)
        {
            Fail($"{name} exited with code {exitCode} after {plan.MaxRestarts} restarts{Reason(name)}");
            return;
        }
        Console.WriteLine($"{name}: exited with code {exitCode}; restarting ({attempt} of {plan.MaxRestarts})");
        var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, cancellationToken);
        if (!result.Success) Fail($"{name} could not be restarted: {result.Message}");
    }

    private string Reason(string name) =>
        errors.TryGetValue(name, out var lines) && !lines.IsEmpty ? $": {string.Join(" ", lines)}" : "";

    private void Complete()
    {
        Environment.ExitCode = 0;
        if (plan.KeepRunning)
            Console.WriteLine("The run is complete; the services, the reports page and the dashboard stay up (--keep-running). Ctrl+C stops them.");
        else
            lifetime.StopApplication();
    }

    private void Fail(string reason)
    {
        // Once stopping, resources that waited on the failed one report failing too: the first reason is the one.
        if (lifetime.ApplicationStopping.IsCancellationRequested) return;
        Console.Error.WriteLine($"error: {reason}");
        logger.LogDebug("The run stopped: {Reason}", reason);
        Environment.ExitCode = 1;
        lifetime.StopApplication();
    }

    /// <summary>
    /// Our services' own lines (categories <c>Distill.*</c>, and <c>error:</c> lines) go to the console; the framework's
    /// per-request lines stay in the dashboard's console logs.
    /// </summary>
    private async Task ForwardLogsAsync(string name, string resourceId, CancellationToken cancellationToken)
    {
        var recentErrors = errors.GetOrAdd(name, _ => new());
        try
        {
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(cancellationToken))
            {
                foreach (var line in batch)
                {
                    var text = ConsoleLine.Of(line.Content);
                    if (text is null) continue;
                    // A service's own "error: ..." line on standard error is its reason for exiting (ServiceExitCodes).
                    if (line.IsErrorMessage && text.StartsWith("error:", StringComparison.Ordinal))
                    {
                        recentErrors.Enqueue(text["error:".Length..].Trim());
                        while (recentErrors.Count > 2) recentErrors.TryDequeue(out _);
                    }
                    Console.WriteLine($"{name}: {text}");
                    // A kept-serving evaluator does not exit: its summary line ends the run.
                    if (plan.KeepRunning && name == plan.Evaluator && text.StartsWith(ServiceConsoleSignals.RunComplete, StringComparison.Ordinal)) Complete();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Which console lines of a service the AppHost's console shows, and how.</summary>
public static partial class ConsoleLine
{
    [System.Text.RegularExpressions.GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial System.Text.RegularExpressions.Regex Colour();

    /// <summary>
    /// The line to show, or null: the services log on one line each (<c>info: Distill.X[0] message</c>), so our own
    /// categories are kept with the category dropped, as are <c>error:</c> lines and warnings or errors of any category.
    /// </summary>
    public static string? Of(string content)
    {
        // DCP prefixes each line with its timestamp; the console logger colours the level.
        var text = Colour().Replace(content, "");
        if (text.Length > 30 && char.IsDigit(text[0]) && text.IndexOf(' ') is > 0 and var space) text = text[(space + 1)..];
        if (text.StartsWith("error:", StringComparison.Ordinal)) return text;
        int colon = text.IndexOf(": ", StringComparison.Ordinal);
        if (colon is < 4 or > 5) return null;
        var level = text[..colon];
        var rest = text[(colon + 2)..];
        int bracket = rest.IndexOf("] ", StringComparison.Ordinal);
        if (bracket < 0) return null;
        var category = rest[..rest.IndexOf('[')];
        var message = rest[(bracket + 2)..];
        // An exception's stack trace stays in the dashboard's console logs.
        if (message.IndexOf("    at ", StringComparison.Ordinal) is > 0 and var stack) message = message[..stack].TrimEnd();
        bool ours = category.StartsWith("Distill.", StringComparison.Ordinal);
        return level switch
        {
            "fail" or "crit" => $"error: {message}",
            "warn" => $"warning: {message}",
            "info" when ours => message,
            _ => null,
        };
    }
}

public static class RunSupervisorExtensions
{
    /// <summary>Supervises the run from <see cref="BeforeStartEvent"/> until the app stops.</summary>
    public static IDistributedApplicationBuilder AddRunSupervisor(this IDistributedApplicationBuilder builder, SupervisionPlan plan)
    {
        builder.Services.AddSingleton(plan);
        builder.Services.AddSingleton<RunSupervisor>();
        builder.Eventing.Subscribe<BeforeStartEvent>((started, cancellationToken) =>
        {
            var lifetime = started.Services.GetRequiredService<IHostApplicationLifetime>();
            _ = started.Services.GetRequiredService<RunSupervisor>().RunAsync(lifetime.ApplicationStopping);
            return Task.CompletedTask;
        });
        return builder;
    }
}
