using Distill.Core.Torch;
using TorchSharp;

namespace Distill.Core.Tests;

public class TorchSharpLoadsTests
{
    [Fact]
    public void NativeLibraryLoadsAndComputes()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3 });
        using var b = torch.matmul(a, a);
        Assert.Equal(14f, b.item<float>());
    }

    [Fact]
    public void DeviceIsChosenAtRunTime()
    {
        Assert.Equal(DeviceType.CPU, TorchDevice.Resolve("cpu").type);
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, TorchDevice.Resolve("auto").type);
        var error = Assert.Throws<ArgumentException>(() => TorchDevice.Resolve("tpu"));
        Assert.Contains("tpu", error.Message);
    }
}
