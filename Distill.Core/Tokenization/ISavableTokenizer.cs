namespace Distill.Core.Tokenization;

/// <summary>
/// A tokenizer that can be written into a checkpoint directory next to the weights, so the checkpoint writer can
/// save both atomically and <see cref="TokenizerLoader.Load"/> can read it back.
/// </summary>
public interface ISavableTokenizer : ITextTokenizer
{
    /// <summary>File name (no directory) to file content; everything <see cref="TokenizerLoader.Load"/> needs.</summary>
    IReadOnlyDictionary<string, byte[]> ToFiles();
}
