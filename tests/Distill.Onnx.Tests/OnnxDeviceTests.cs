namespace Distill.Onnx.Tests;

/// <summary>Which execution provider a teacher's --device asks ONNX Runtime for.</summary>
public sealed class OnnxDeviceTests
{
    [Theory]
    [InlineData("cuda", 0)]
    [InlineData(" CUDA ", 0)]
    [InlineData("cuda:1", 1)]
    [InlineData("cpu", null)]
    [InlineData("cuda:x", null)]
    [InlineData("cuda:-1", null)]
    public void DeviceFlagsChooseTheCudaDevice(string device, int? expected) =>
        Assert.Equal(expected, OnnxScorer.CudaDeviceFor(device));

    [Fact]
    public void AutoTakesCudaOnlyInTheCudaBuild() =>
        // This suite builds the CPU package (Microsoft.ML.OnnxRuntime); -p:DistillTorchBackend=cuda swaps in the Gpu one.
        Assert.Equal(OnnxScorer.CudaBuild ? 0 : null, OnnxScorer.CudaDeviceFor("auto"));
}
