using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Core.Tokenization;

/// <summary>
/// Character-level tokenizer for the built-in arithmetic task: <c>&lt;pad&gt;</c>=0, <c>&lt;eos&gt;</c>=1,
/// <c>&lt;unk&gt;</c>=2, then one id per alphabet character in alphabet order.
/// </summary>
/// <remarks>
/// A character outside the alphabet encodes to <c>&lt;unk&gt;</c> (one per Unicode scalar, so an emoji is one
/// <c>&lt;unk&gt;</c>) rather than throwing: a char-level student may be evaluated on loaded datasets with letters the
/// built-in task never uses, and that should cost accuracy, not crash the run. The generator is tested to stay inside
/// <see cref="DefaultAlphabet"/>. Decoding skips <c>&lt;pad&gt;</c> and <c>&lt;eos&gt;</c> and writes
/// <c>&lt;unk&gt;</c> as U+FFFD.
/// </remarks>
public sealed class CharTokenizer : ISavableTokenizer
{
    public const string FileName = "char_tokenizer.json";
    public const int PadId = 0;
    public const int EosId = 1;
    public const int UnknownId = 2;

    /// <summary>
    /// Newline, space, the punctuation of questions and worked solutions, digits, lower case, and the only capitals
    /// the generator and prompt format write (name initials, "How", "Q:", "A:"); 61 characters, 64 ids with specials.
    /// </summary>
    public const string DefaultAlphabet =
        "\n !#$'()*+,-./:;=?0123456789abcdefghijklmnopqrstuvwxyzABHJMQS";

    public const int MaxVocabularySize = 64;

    private const string FormatName = "distill-char-tokenizer";
    private const int FormatVersion = 1;
    private static readonly string[] SpecialTokens = ["<pad>", "<eos>", "<unk>"];

    private readonly Dictionary<char, int> _idByChar;

    public CharTokenizer(string alphabet = DefaultAlphabet)
    {
        ArgumentNullException.ThrowIfNull(alphabet);
        if (alphabet.Length == 0)
        {
            throw new ArgumentException("The alphabet is empty.", nameof(alphabet));
        }

        if (alphabet.Length + SpecialTokens.Length > MaxVocabularySize)
        {
            throw new ArgumentException(
                $"The alphabet has {alphabet.Length} characters; with {SpecialTokens.Length} special tokens that exceeds {MaxVocabularySize} ids.",
                nameof(alphabet));
        }

        _idByChar = new Dictionary<char, int>(alphabet.Length);
        for (var i = 0; i < alphabet.Length; i++)
        {
            var c = alphabet[i];
            if (char.IsSurrogate(c))
            {
                throw new ArgumentException($"Alphabet position {i} is a UTF-16 surrogate; only BMP characters are allowed.", nameof(alphabet));
            }

            if (!_idByChar.TryAdd(c, SpecialTokens.Length + i))
            {
                throw new ArgumentException($"Alphabet character U+{(int)c:X4} appears twice (position {i}).", nameof(alphabet));
            }
        }

        Alphabet = alphabet;
        Fingerprint = ComputeFingerprint(alphabet);
    }

    public static CharTokenizer Default { get; } = new();

    public string Alphabet { get; }

    public int VocabularySize => SpecialTokens.Length + Alphabet.Length;

    public int EosTokenId => EosId;

    public int PadTokenId => PadId;

    public string Fingerprint { get; }

    /// <summary>True when every character of <paramref name="text"/> has its own id (no <c>&lt;unk&gt;</c>).</summary>
    public bool CanEncodeExactly(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.All(_idByChar.ContainsKey);
    }

    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            ids.Add(rune.IsBmp && _idByChar.TryGetValue((char)rune.Value, out var id) ? id : UnknownId);
        }

        return ids;
    }

    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        foreach (var id in ids)
        {
            switch (id)
            {
                case PadId or EosId:
                    break;
                case UnknownId:
                    text.Append('\uFFFD');
                    break;
                default:
                    if (id < SpecialTokens.Length || id >= VocabularySize)
                    {
                        throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the character vocabulary of {VocabularySize}.");
                    }

                    text.Append(Alphabet[id - SpecialTokens.Length]);
                    break;
            }
        }

        return text.ToString();
    }

    public IReadOnlyDictionary<string, byte[]> ToFiles()
    {
        var file = new CharTokenizerFile(FormatName, FormatVersion, SpecialTokens, Alphabet);
        return new Dictionary<string, byte[]>
        {
            [FileName] = JsonSerializer.SerializeToUtf8Bytes(file, CharTokenizerJsonContext.Default.CharTokenizerFile),
        };
    }

    /// <summary>Reads a <see cref="FileName"/> written by <see cref="ToFiles"/>; errors name <paramref name="path"/> and the field.</summary>
    public static CharTokenizer Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        CharTokenizerFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllBytes(path), CharTokenizerJsonContext.Default.CharTokenizerFile);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid char tokenizer file: {e.Message}", e);
        }

        if (file is null)
        {
            throw new InvalidDataException($"{path}: the file holds JSON null, not a char tokenizer.");
        }

        if (file.Format != FormatName)
        {
            throw new InvalidDataException($"{path}: field 'format' is '{file.Format}', expected '{FormatName}'.");
        }

        if (file.Version != FormatVersion)
        {
            throw new InvalidDataException($"{path}: field 'version' is {file.Version}, this build reads version {FormatVersion}.");
        }

        if (file.SpecialTokens is null || !file.SpecialTokens.SequenceEqual(SpecialTokens))
        {
            throw new InvalidDataException($"{path}: field 'specialTokens' must be [{string.Join(", ", SpecialTokens)}].");
        }

        try
        {
            return new CharTokenizer(file.Alphabet ?? throw new InvalidDataException($"{path}: field 'alphabet' is missing."));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: field 'alphabet' is invalid: {e.Message}", e);
        }
    }

    private static string ComputeFingerprint(string alphabet)
    {
        // Canonical form: the format name, the special tokens in id order, then the alphabet in id order.
        var canonical = JsonSerializer.SerializeToUtf8Bytes(
            new CharTokenizerFile(FormatName, FormatVersion, SpecialTokens, alphabet),
            CharTokenizerJsonContext.Default.CharTokenizerFile);
        return Convert.ToHexStringLower(SHA256.HashData(canonical));
    }
}

internal sealed record CharTokenizerFile(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("specialTokens")] IReadOnlyList<string>? SpecialTokens,
    [property: JsonPropertyName("alphabet")] string? Alphabet);

[JsonSerializable(typeof(CharTokenizerFile))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class CharTokenizerJsonContext : JsonSerializerContext;
