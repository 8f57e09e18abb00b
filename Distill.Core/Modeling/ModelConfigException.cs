namespace Distill.Core.Modeling;

/// <summary>A model configuration that cannot be used: malformed JSON, or a missing or invalid field.</summary>
public sealed class ModelConfigException(string configSource, string field, string problem, Exception? innerException = null)
    : Exception($"{configSource}: field '{field}' {problem}", innerException)
{
    /// <summary>The config file's path, or a description of where an in-memory config came from.</summary>
    public string ConfigSource { get; } = configSource;

    public string Field { get; } = field;
}
