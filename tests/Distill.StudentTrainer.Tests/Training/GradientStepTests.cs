using Distill.StudentTrainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.StudentTrainer.Tests.Training;

public sealed class GradientStepTests
{
    // loss = w · x has gradient x with respect to w, so the norm is known exactly: |(3, 4)| = 5.
    private static (double Norm, float[] Weights) StepOnce(double maxGradNorm)
    {
        using var scope = NewDisposeScope();
        var model = nn.Linear(2, 1, hasBias: false);
        using (no_grad()) model.weight!.copy_(zeros(1, 2));
        var optimizer = optim.SGD(model.parameters(), learningRate: 1.0);
        var loss = model.forward(tensor(new float[] { 3, 4 }).reshape(1, 2)).sum();
        double norm = GradientStep.Take(model, optimizer, loss, maxGradNorm);
        return (norm, model.weight!.data<float>().ToArray());
    }

    [Fact]
    public void ReturnsTheNormBeforeClippingAndStepsAlongTheClippedGradient()
    {
        var (norm, weights) = StepOnce(maxGradNorm: 1.0);

        Assert.Equal(5.0, norm, 5);
        // SGD at rate 1 moves w by −g, with g shortened from length 5 to length 1.
        Assert.Equal(-0.6f, weights[0], 5);
        Assert.Equal(-0.8f, weights[1], 5);
    }

    [Fact]
    public void LeavesAGradientUnderTheLimitAsItIs()
    {
        var (norm, weights) = StepOnce(maxGradNorm: 10.0);

        Assert.Equal(5.0, norm, 5);
        Assert.Equal(-3f, weights[0], 5);
        Assert.Equal(-4f, weights[1], 5);
    }
}
