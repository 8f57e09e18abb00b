using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.StudentTrainer.Training;

/// <summary>One optimiser step on a loss, its gradient clipped: the one place the trainer and the bootstrap take it.</summary>
public static class GradientStep
{
    /// <summary>
    /// Back-propagates <paramref name="loss"/>, clips the gradient to <paramref name="maxGradNorm"/> and steps.
    /// Returns the gradient's L2 norm before clipping: above <paramref name="maxGradNorm"/>, the step was shortened to it.
    /// </summary>
    public static double Take(nn.Module model, OptimizerHelper optimizer, Tensor loss, double maxGradNorm)
    {
        optimizer.zero_grad();
        loss.backward();
        double norm = nn.utils.clip_grad_norm_(model.parameters(), maxGradNorm);
        optimizer.step();
        return norm;
    }
}
