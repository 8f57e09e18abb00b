using Microsoft.Extensions.Options;
using Spectre.Console;

namespace Distill.StudentTrainer.Training;

/// <summary>
/// Runs the training loop inside the worker host and stops the host when the run is done: exit code 0 when it
/// completed, 1 when it failed, <see cref="Distill.ServiceDefaults.ServiceExitCodes.CannotStart"/> when it cannot start as
/// configured, so an orchestrator can wait for its completion and knows when a restart cannot help.
/// </summary>
public sealed class TrainingWorker(PolicyTrainer trainer, IHostApplicationLifetime lifetime, IOptions<TrainerOptions> options,
    ILogger<TrainingWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (and /health answer) before the long work begins.
        await Task.Yield();
        try
        {
            if (Console.IsOutputRedirected)
            {
                trainer.StepCompleted += (m, total) => logger.LogInformation(
                    "step {Step}/{Total}: reward {Reward:0.000} accuracy {Accuracy:0.000} KL {Kl:0.00} (p90 {P90:0.00}) CSR {Csr:0.000} λ {Lambda} {Seconds:0.0}s",
                    m.Step, total, m.Reward, m.Accuracy, m.CostMean, m.CostP90, m.ConstraintSatisfactionRate,
                    m.Lambda?.ToString("0.000") ?? "-", m.StepSeconds);
                await trainer.RunAsync(stoppingToken);
            }
            else
            {
                await AnsiConsole.Progress().AutoClear(false).StartAsync(async progress =>
                {
                    var bar = progress.AddTask($"{options.Value.Objective} → {options.Value.RunDirectory}", maxValue: options.Value.Steps);
                    trainer.StepCompleted += (m, _) =>
                    {
                        bar.Value = m.Step;
                        bar.Description = $"{options.Value.Objective} step {m.Step}: accuracy {m.Accuracy:0.00} KL {m.CostMean:0.00} CSR {m.ConstraintSatisfactionRate:0.00}";
                    };
                    await trainer.RunAsync(stoppingToken);
                });
            }
            Environment.ExitCode = 0;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            logger.LogInformation("Training stopped; it resumes from its last checkpoint with --resume.");
            Environment.ExitCode = 1;
        }
        catch (Exception error) when (error is TrainingStartupException or Distill.Core.Runs.RunDirectoryInUseException or InvalidDataException or ArgumentException or FileNotFoundException or DirectoryNotFoundException)
        {
            logger.LogError("Training cannot go on: {Reason}", error.Message);
            // Starting again would meet the same settings, files or holder of the run directory: an orchestrator stops
            // the run with this line as the reason instead of restarting the trainer.
            await Console.Error.WriteLineAsync($"error: {error.Message}");
            Environment.ExitCode = Distill.ServiceDefaults.ServiceExitCodes.CannotStart;
        }
        catch (Exception error)
        {
            logger.LogError(error, "Training failed.");
            Environment.ExitCode = 1;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }
}
