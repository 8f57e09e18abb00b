using TorchSharp;

namespace Distill.Core.Torch;

/// <summary>Which device a model runs on, chosen at run time: <c>auto</c> takes CUDA when present.</summary>
public static class TorchDevice
{
    public static readonly string[] Choices = ["auto", "cpu", "cuda"];

    /// <summary>Resolves <c>auto|cpu|cuda</c> (case-insensitive) to a torch device.</summary>
    /// <exception cref="ArgumentException">An unknown name, or <c>cuda</c> on a machine without it.</exception>
    public static torch.Device Resolve(string? name)
    {
        switch ((name ?? "auto").Trim().ToLowerInvariant())
        {
            case "auto":
                return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            case "cpu":
                return torch.CPU;
            case "cuda":
                if (!torch.cuda.is_available())
                    throw new ArgumentException("device 'cuda' was asked for, but CUDA is not available " +
                        "(build with -p:DistillTorchBackend=cuda on a machine with an NVIDIA GPU).", nameof(name));
                return torch.CUDA;
            default:
                throw new ArgumentException($"unknown device '{name}': expected one of {string.Join(", ", Choices)}.", nameof(name));
        }
    }
}
