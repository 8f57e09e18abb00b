namespace Distill.Core.Tokenization;

/// <summary>Opens whichever tokenizer a checkpoint or model directory holds.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// <c>char_tokenizer.json</c> when present (our own char-level format), else a Hugging Face <c>tokenizer.json</c>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">The directory holds neither file.</exception>
    /// <exception cref="InvalidDataException">The file is malformed; the message names file and field.</exception>
    public static ISavableTokenizer Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Tokenizer directory '{directory}' does not exist.");
        }

        var charPath = Path.Combine(directory, CharTokenizer.FileName);
        if (File.Exists(charPath))
        {
            return CharTokenizer.Load(charPath);
        }

        if (File.Exists(Path.Combine(directory, HuggingFaceTokenizer.TokenizerFileName)))
        {
            return HuggingFaceTokenizer.Load(directory);
        }

        throw new FileNotFoundException(
            $"No tokenizer in '{directory}': expected {CharTokenizer.FileName} or {HuggingFaceTokenizer.TokenizerFileName}.",
            Path.Combine(directory, HuggingFaceTokenizer.TokenizerFileName));
    }
}
