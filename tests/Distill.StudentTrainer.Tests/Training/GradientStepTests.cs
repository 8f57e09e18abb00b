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

    [Theory]
    // Over the limit, SGD at rate 1 moves w by −g with g shortened from length 5 to length 1; under it, by −g itself.
    [InlineData(1.0, -0.6f, -0.8f)]
    [InlineData(10.0, -3f, -4f)]
    public void ReturnsTheNormBeforeClippingAndStepsAlongTheClippedGradient(double maxGradNorm, float first, float second)
    {
        var (norm, weights) = StepOnce(maxGradNorm);

        Assert.Equal(5.0, norm, 5);
        Assert.Equal(first, weights[0], 5);
        Assert.Equal(second, weights[1], 5);
    }
}
