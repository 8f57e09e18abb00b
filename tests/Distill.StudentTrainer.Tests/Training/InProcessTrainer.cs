using Distill.Core.Runs;
using Distill.StudentTrainer.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Distill.StudentTrainer.Tests.Training;

/// <summary>
/// The trainer as its host wires it (<c>AddStudentTrainer</c> over configuration keys such as <c>Trainer:Steps</c>), run in
/// the test's process: the one set-up every trainer test shares.
/// </summary>
internal static class InProcessTrainer
{
    /// <summary>Runs a training run with <paramref name="settings"/> and returns its <c>metrics.jsonl</c>.</summary>
    public static async Task<IReadOnlyList<TrainingStepMetrics>> TrainAsync(IReadOnlyDictionary<string, string?> settings,
        Action<TrainingStepMetrics>? onStep = null, CancellationToken cancellation = default)
    {
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddStudentTrainer(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        await using var provider = services.BuildServiceProvider();
        var trainer = provider.GetRequiredService<PolicyTrainer>();
        if (onStep is not null) trainer.StepCompleted += (m, _) => onStep(m);
        // Off the test's thread: a step callback that blocks must not block the test.
        await Task.Run(() => trainer.RunAsync(cancellation), CancellationToken.None);
        return new RunDirectory(settings["Trainer:RunDirectory"]!).ReadMetrics();
    }
}
