namespace Distill.Core.Divergence;

/// <summary>How per-token costs become the sequence cost C.</summary>
[System.ComponentModel.TypeConverter(typeof(Distill.Core.Configuration.KebabCaseEnumConverter))]
public enum CostAggregation
{
    /// <summary>C = Σ_t c_t.</summary>
    Sum,

    /// <summary>C = (Σ_t c_t) / T.</summary>
    Mean,
}
