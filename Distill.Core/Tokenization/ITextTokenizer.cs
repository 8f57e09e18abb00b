namespace Distill.Core.Tokenization;

/// <summary>Text to token ids and back; one interface over the character-level and Hugging Face tokenizers.</summary>
public interface ITextTokenizer
{
    int VocabularySize { get; }

    /// <summary>End-of-sequence id that stops generation.</summary>
    int EosTokenId { get; }

    /// <summary>Id used for left padding in batches (never attended to).</summary>
    int PadTokenId { get; }

    /// <summary>
    /// A stable hash of everything that decides the id of a piece of text (vocabulary, merges, special tokens,
    /// normalisation), so two services can check they tokenize alike. Hex, lower case.
    /// </summary>
    string Fingerprint { get; }

    IReadOnlyList<int> Encode(string text);

    string Decode(IEnumerable<int> ids);
}
