namespace Distill.Core.Divergence;

/// <summary>Where the KL budget is checked for a violation.</summary>
[System.ComponentModel.TypeConverter(typeof(Distill.Core.Configuration.KebabCaseEnumConverter))]
public enum BudgetScope
{
    /// <summary>Violated when the final budget is negative, i.e. C &gt; d.</summary>
    Sequence,

    /// <summary>Violated when the budget goes negative after any token (Saute): stricter than <see cref="Sequence"/> when costs can be negative.</summary>
    Prefix,
}
