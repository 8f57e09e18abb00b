using System.Runtime.InteropServices;

namespace Distill.Core.Torch;

/// <summary>
/// Pins libtorch's CPU kernels (ATen's own, MKL's and oneDNN's) to AVX2, so that one seed trains one model on AVX2 and
/// AVX-512 machines alike. Float sums in another order move a 1,500-step training by points of accuracy: unpinned, the
/// default student's bootstrap gave 63.0 % on AVX2 machines and 58.2 % on an AVX-512 one (AMD EPYC, 2 vCPUs); pinned,
/// the AVX-512 machine gives the AVX2 machines' 63.0 %, the same answers to the last held-out problem
/// (docs/default-models.md).
/// </summary>
/// <remarks>
/// The three libraries read these variables from the native environment when they first choose a kernel, so
/// <see cref="PinForReproducibility"/> runs first in every program that uses torch, before any tensor exists, and the
/// test projects set the same values in their run settings (tests/tests.runsettings). .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the native environment on Unix, so
/// the values also go through libc's <c>setenv</c>. A value the user set is kept; <c>DISTILL_CPU_KERNELS=native</c>
/// lets every library take the machine's widest instructions, faster on AVX-512 and no longer reproducible across
/// machines.
/// </remarks>
public static class CpuKernels
{
    public const string SwitchVariable = "DISTILL_CPU_KERNELS";

    /// <summary>The variables and the values that pin each library to AVX2.</summary>
    public static readonly IReadOnlyList<(string Name, string Value)> Avx2Pins =
        [("ATEN_CPU_CAPABILITY", "avx2"), ("MKL_CBWR", "AVX2"), ("ONEDNN_MAX_CPU_ISA", "AVX2")];

    /// <summary>
    /// ATen's kernels in this process as libtorch sees them (the native environment): <c>avx2</c> when pinned, else
    /// <c>native</c>. Recorded in bootstrap.json.
    /// </summary>
    public static string Mode =>
        (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && Marshal.PtrToStringUTF8(GetNative(Avx2Pins[0].Name)) is { Length: > 0 } pinned
            ? pinned
            : "native";

    /// <summary>
    /// Sets the pinning variables (those not already set) in this process and for the processes it starts, unless
    /// <c>DISTILL_CPU_KERNELS=native</c>, or the CPU lacks AVX2 (then there is nothing to pin to). Call it before the
    /// first tensor operation.
    /// </summary>
    public static void PinForReproducibility()
    {
        if (string.Equals(Environment.GetEnvironmentVariable(SwitchVariable), "native", StringComparison.OrdinalIgnoreCase)
            || !System.Runtime.Intrinsics.X86.Avx2.IsSupported || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
            return;
        foreach (var (name, value) in Avx2Pins)
        {
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) continue;
            Environment.SetEnvironmentVariable(name, value);
            if (SetNative(name, value, overwrite: 0) != 0)
                throw new InvalidOperationException($"setenv({name}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    // Strings marshal as UTF-8 on Unix.
    [DllImport("libc", EntryPoint = "setenv", SetLastError = true)]
    private static extern int SetNative(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr GetNative(string name);
}
