using Distill.Core.Tasks;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator.Evaluation;

/// <summary>
/// The teacher's own greedy accuracy on the held-out set, for reference: measured once per process from
/// <c>--teacher-checkpoint</c> and reused for every student checkpoint. A teacher checkpoint that cannot be loaded is
/// logged and reported as "not measured"; it does not stop the student evaluations.
/// </summary>
public sealed class TeacherReference(HeldOutSet heldOut, IOptions<EvaluatorOptions> options, ILogger<TeacherReference> logger)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private double? accuracy;
    private bool measured;

    public async Task<double?> AccuracyAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.TeacherCheckpoint is not { } directory) return null;
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!measured)
            {
                accuracy = await MeasureAsync(directory, settings, cancellationToken);
                measured = true;
            }
            return accuracy;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<double?> MeasureAsync(string directory, EvaluatorOptions settings, CancellationToken cancellationToken)
    {
        try
        {
            using var teacher = CheckpointModel.Load(directory, settings.Device);
            var prompts = heldOut.Problems.Select(problem => teacher.Tokenizer.Encode(PromptFormat.Render(problem.Question)).ToArray()).ToArray();
            var completions = teacher.Generate(prompts, temperature: 0, settings.MaxNewTokens, settings.Seed, settings.BatchSize, cancellationToken);
            var correct = heldOut.Problems.Where((problem, i) => CompletionGrade.Of(teacher.Tokenizer, completions[i].TokenIds, problem.Answer).IsCorrect).Count();
            var measuredAccuracy = correct / (double)heldOut.Problems.Count;
            logger.LogInformation("Teacher accuracy on {HeldOut}: {Accuracy:P1}", heldOut.Name, measuredAccuracy);
            return measuredAccuracy;
        }
        // Whatever the teacher checkpoint throws costs only the reference number, never the student evaluations.
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogError("Teacher checkpoint {Directory} could not be evaluated; reporting no teacher accuracy: {Error}", directory, error.Message);
            return null;
        }
    }
}
