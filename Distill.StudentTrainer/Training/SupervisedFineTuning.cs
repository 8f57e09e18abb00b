using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.StudentTrainer.Objectives;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.StudentTrainer.Training;

/// <summary>One supervised step: maximise log π_θ(y*|x) of reference completions (the sft objective, and the bootstrap).</summary>
public static class SupervisedFineTuning
{
    /// <summary>
    /// Takes one optimiser step on <paramref name="items"/>: returns the mean negative log-likelihood per token and the
    /// gradient's norm before clipping.
    /// </summary>
    public static (double Loss, double GradientNorm) Step(LlamaForCausalLM model, OptimizerHelper optimizer, IReadOnlyList<ScoringItem> items, double maxGradNorm)
    {
        using var scope = NewDisposeScope();
        model.train();
        using var student = CompletionLogProbs.Compute(model, items, SamplerPolicy.Untempered);
        var loss = SupervisedLoss.Compute(student.LogProbs, student.Mask);
        double gradientNorm = GradientStep.Take(model, optimizer, loss, maxGradNorm);
        return (loss.item<float>(), gradientNorm);
    }

    /// <summary>Linear warm-up, then cosine decay to a tenth of the peak: the schedule of the bootstrap's training.</summary>
    public static double LearningRate(double peak, int step, int totalSteps, int warmupSteps)
    {
        double warm = Math.Min(1.0, step / (double)Math.Max(1, warmupSteps));
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step, totalSteps) / totalSteps));
        return peak * warm * (0.1 + 0.9 * cosine);
    }
}
