namespace Distill.Experiment;

/// <summary>
/// One method's difference from a reference method on one metric at one d, paired by seed (the same seed draws the same
/// prompts and samples from the same start), with a 95 % Student-t interval over the seeds' differences.
/// </summary>
public sealed record PairedDifference(string Method, string Reference, double Threshold, string Metric, double Mean, double Low,
    double High, int Seeds)
{
    /// <summary>The mean of <c>method − reference</c> over the seeds both have, and its 95 % t-interval (n − 1 degrees of freedom).</summary>
    public static PairedDifference Of(string method, string reference, double threshold, string metric,
        IReadOnlyList<(double Method, double Reference)> pairs)
    {
        if (pairs.Count < 2) throw new ArgumentException("a paired interval needs at least two seeds", nameof(pairs));
        var spread = Spread.Of(pairs.Select(p => p.Method - p.Reference));
        var halfWidth = StudentT975(pairs.Count - 1) * spread.StandardDeviation / Math.Sqrt(pairs.Count);
        return new PairedDifference(method, reference, threshold, metric, spread.Mean, spread.Mean - halfWidth, spread.Mean + halfWidth,
            pairs.Count);
    }

    /// <summary>The 97.5th percentile of Student's t with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    public static double StudentT975(int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        // Exact to three decimals up to 30 degrees of freedom; beyond, the Cornish–Fisher expansion around the normal's 1.96.
        ReadOnlySpan<double> table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
            2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042];
        if (degreesOfFreedom <= table.Length) return table[degreesOfFreedom - 1];
        const double z = 1.959964;
        double v = degreesOfFreedom;
        return z + (z * z * z + z) / (4 * v) + (5 * Math.Pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v);
    }
}
