using Distill.Core.Tasks;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator.Evaluation;

/// <summary>
/// The teacher's own greedy accuracy on the held-out set, for reference: measured once per process from
/// <c>--teacher-checkpoint</c> and reused for every student checkpoint. A teacher checkpoint that cannot be loaded is
/// logged and reported as "not measured"; it does not stop the student evaluations.
/// </summary>
public sealed class TeacherReference(ICheckpointModelLoader models, HeldOutSet heldOut, IOptions<EvaluatorOptions> options, ILogger<TeacherReference> logger)
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
            using var teacher = models.Load(directory);
            var prompts = heldOut.Problems.Select(problem => teacher.Tokenizer.Encode(PromptFormat.Render(problem.Question)).ToArray()).ToArray();
            var completions = await teacher.GenerateAsync(prompts, Decoding.Greedy, settings.MaxNewTokens, settings.Seed, settings.BatchSize, cancellationToken);
            var correct = heldOut.Problems.Where((problem, i) => AnswerChecker.IsCorrect(teacher.Tokenizer.Decode(completions[i]), problem.Answer)).Count();
            var measuredAccuracy = correct / (double)heldOut.Problems.Count;
            logger.LogInformation("Teacher accuracy on {HeldOut}: {Accuracy:P1}", heldOut.Name, measuredAccuracy);
            return measuredAccuracy;
        }
        catch (Exception error) when (error is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            logger.LogError("Teacher checkpoint {Directory} could not be evaluated; reporting no teacher accuracy: {Error}", directory, error.Message);
            return null;
        }
    }
}
