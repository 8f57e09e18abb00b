using TorchSharp;

namespace Distill.Core.Safetensors;

/// <summary>The dtype names of the safetensors header and the torch types they map to.</summary>
public static class SafetensorsDType
{
    private static readonly Dictionary<string, torch.ScalarType> TypesByName = new(StringComparer.Ordinal)
    {
        ["F64"] = torch.ScalarType.Float64,
        ["F32"] = torch.ScalarType.Float32,
        ["F16"] = torch.ScalarType.Float16,
        ["BF16"] = torch.ScalarType.BFloat16,
        ["I64"] = torch.ScalarType.Int64,
        ["I32"] = torch.ScalarType.Int32,
        ["I16"] = torch.ScalarType.Int16,
        ["I8"] = torch.ScalarType.Int8,
        ["U8"] = torch.ScalarType.Byte,
        ["BOOL"] = torch.ScalarType.Bool,
    };

    private static readonly Dictionary<torch.ScalarType, string> NamesByType = TypesByName.ToDictionary(pair => pair.Value, pair => pair.Key);

    public static bool TryParse(string name, out torch.ScalarType type) => TypesByName.TryGetValue(name, out type);

    /// <exception cref="ArgumentException">A torch type safetensors has no name for here (complex, quantized...).</exception>
    public static string NameOf(torch.ScalarType type) =>
        NamesByType.TryGetValue(type, out var name)
            ? name
            : throw new ArgumentException($"dtype {type} cannot be stored in safetensors here; supported: {string.Join(", ", NamesByType.Keys)}.");

    public static int SizeOf(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float64 or torch.ScalarType.Int64 => 8,
        torch.ScalarType.Float32 or torch.ScalarType.Int32 => 4,
        torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Int16 => 2,
        torch.ScalarType.Int8 or torch.ScalarType.Byte or torch.ScalarType.Bool => 1,
        _ => throw new ArgumentException($"dtype {type} has no safetensors name."),
    };
}
