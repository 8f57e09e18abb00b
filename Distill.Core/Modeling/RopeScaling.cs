namespace Distill.Core.Modeling;

/// <summary>
/// The <c>rope_scaling</c> block of a Hugging Face config. <c>linear</c> divides every frequency by
/// <see cref="Factor"/>; <c>llama3</c> (Llama 3.1+) divides only the low frequencies and blends the band in between.
/// </summary>
public sealed record RopeScaling(
    string RopeType,
    double Factor,
    double? LowFreqFactor = null,
    double? HighFreqFactor = null,
    int? OriginalMaxPositionEmbeddings = null)
{
    public const string Linear = "linear";
    public const string Llama3 = "llama3";

    public static readonly IReadOnlyList<string> SupportedTypes = [Linear, Llama3];

    /// <summary>Applies the scaling to the unscaled inverse frequencies <c>1 / theta^(2i/d)</c>.</summary>
    public double[] Apply(double[] inverseFrequencies)
    {
        if (RopeType == Linear)
            return inverseFrequencies.Select(frequency => frequency / Factor).ToArray();

        double originalContext = OriginalMaxPositionEmbeddings!.Value;
        double low = LowFreqFactor!.Value, high = HighFreqFactor!.Value;
        double lowFrequencyWavelength = originalContext / low;
        double highFrequencyWavelength = originalContext / high;
        return inverseFrequencies.Select(frequency =>
        {
            double wavelength = 2 * Math.PI / frequency;
            if (wavelength < highFrequencyWavelength)
                return frequency;
            if (wavelength > lowFrequencyWavelength)
                return frequency / Factor;
            double smooth = (originalContext / wavelength - low) / (high - low);
            return (1 - smooth) * frequency / Factor + smooth * frequency;
        }).ToArray();
    }
}
