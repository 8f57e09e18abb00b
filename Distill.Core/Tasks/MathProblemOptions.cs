namespace Distill.Core.Tasks;

public enum ArithmeticOperation
{
    Add,
    Subtract,
    Multiply,

    /// <summary>Exact division only ("splits them into 3 equal groups and keeps one"); off by default.</summary>
    Divide,
}

/// <summary>
/// Difficulty knobs of <see cref="MathProblemGenerator"/>. The defaults (two steps of + or −, operands ≤ 9, every
/// running total in 0..30) are what the default teacher, a 0.8M-parameter char-level transformer, learns to ≥ 90%
/// greedy exact match in the bootstrap's few minutes on two CPU cores (measured: docs/default-models.md). Harder
/// settings (more steps, ×, larger numbers) are a knob away, for bigger models and longer training.
/// </summary>
public sealed record MathProblemOptions
{
    public int MinSteps { get; init; } = 2;

    public int MaxSteps { get; init; } = 2;

    /// <summary>Largest number a question states (start amount and each step's operand); at least 2.</summary>
    public int MaxOperand { get; init; } = 9;

    /// <summary>Largest running total allowed at any step; totals never go below zero.</summary>
    public int MaxResult { get; init; } = 30;

    public IReadOnlyList<ArithmeticOperation> Operations { get; init; } =
        [ArithmeticOperation.Add, ArithmeticOperation.Subtract];

    public void Validate()
    {
        if (MinSteps < 1 || MaxSteps < MinSteps)
        {
            throw new ArgumentException($"Steps must satisfy 1 <= {nameof(MinSteps)} <= {nameof(MaxSteps)}; got {MinSteps}..{MaxSteps}.");
        }

        if (MaxOperand < 2)
        {
            throw new ArgumentException($"{nameof(MaxOperand)} must be at least 2; got {MaxOperand}.");
        }

        if (MaxResult < MaxOperand)
        {
            throw new ArgumentException($"{nameof(MaxResult)} ({MaxResult}) must be at least {nameof(MaxOperand)} ({MaxOperand}).");
        }

        if (Operations is null || Operations.Count == 0 || Operations.Any(op => !Enum.IsDefined(op)))
        {
            throw new ArgumentException($"{nameof(Operations)} must name at least one of {string.Join(", ", Enum.GetNames<ArithmeticOperation>())}.");
        }
    }
}
