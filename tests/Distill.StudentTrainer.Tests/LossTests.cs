using Distill.StudentTrainer.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.StudentTrainer.Tests;

public class LossTests
{
    [Fact]
    public void OneInnerEpochLossAndGradientAreThoseOfAdvantageTimesLogProb()
    {
        using var scope = NewDisposeScope();
        // B = 2, T = 2; the second sample has one real token. A = (2, -1). ρ = 1 everywhere.
        var logProbs = tensor(new[] { MathF.Log(0.5f), MathF.Log(0.25f), MathF.Log(0.5f), 0f }, 2, 2).requires_grad_();
        var mask = tensor(new[] { 1f, 1f, 1f, 0f }, 2, 2);
        var advantages = tensor(new[] { 2f, -1f });

        var loss = PolicyGradientLoss.Compute(logProbs, logProbs.detach(), advantages, mask, clipEpsilon: null);
        // -(1/3)·(2 + 2 - 1) = -1
        Assert.Equal(-1.0, loss.item<float>(), 6);

        loss.backward();
        // ∂/∂logp = -(1/3)·A·ρ·mask: positive advantage → negative gradient, so descent raises its log-prob.
        Assert.Equal([-2f / 3, -2f / 3, 1f / 3, 0f], logProbs.grad!.data<float>().ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void PerTokenAdvantagesAreAccepted()
    {
        using var scope = NewDisposeScope();
        var logProbs = zeros(1, 2);
        var advantages = tensor(new[] { 1f, 3f }, 1, 2);
        var loss = PolicyGradientLoss.Compute(logProbs, logProbs, advantages, ones(1, 2), clipEpsilon: null);
        // -(1/2)·(1 + 3) = -2
        Assert.Equal(-2.0, loss.item<float>(), 6);
    }

    [Fact]
    public void PpoClippingTakesThePessimisticTerm()
    {
        using var scope = NewDisposeScope();
        // ε = 0.2, old log-probs 0, T = 1 each.
        //   ρ = 1.5, A = +1: min(1.5, 1.2) = 1.2 (clipped: gradient 0)
        //   ρ = 1.5, A = -1: min(-1.5, -1.2) = -1.5 (unclipped: ∂(-(1/3)ρA)/∂logp = ρ/3 = 0.5)
        //   ρ = 0.5, A = +1: min(0.5, 0.8) = 0.5   (unclipped: -(1/3)·0.5 = -1/6)
        // loss = -(1/3)·(1.2 - 1.5 + 0.5) = -0.2/3
        var logProbs = tensor(new[] { MathF.Log(1.5f), MathF.Log(1.5f), MathF.Log(0.5f) }, 3, 1).requires_grad_();
        var advantages = tensor(new[] { 1f, -1f, 1f });
        var loss = PolicyGradientLoss.Compute(logProbs, zeros(3, 1), advantages, ones(3, 1), clipEpsilon: 0.2);
        Assert.Equal(-0.2 / 3, loss.item<float>(), 6);

        loss.backward();
        Assert.Equal([0f, 0.5f, -1f / 6], logProbs.grad!.data<float>().ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void SupervisedLossIsMeanNegativeLogLikelihood()
    {
        using var scope = NewDisposeScope();
        // -(ln 0.5 + ln 0.25 + ln 0.5) / 3 = (0.6931472 + 1.3862944 + 0.6931472) / 3 = 0.9241962
        var logProbs = tensor(new[] { MathF.Log(0.5f), MathF.Log(0.25f), MathF.Log(0.5f), -9f }, 2, 2);
        var mask = tensor(new[] { 1f, 1f, 1f, 0f }, 2, 2);
        Assert.Equal(0.9241962, SupervisedLoss.Compute(logProbs, mask).item<float>(), 6);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float value) => 0;
    }
}
