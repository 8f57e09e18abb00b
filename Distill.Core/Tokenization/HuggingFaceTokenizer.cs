using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Distill.Core.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer read from a Hugging Face <c>tokenizer.json</c> (the Qwen2/Qwen3 and Llama 3 family).
/// Merging is done by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>; added-token splitting, normalisation,
/// the pre-tokenizer regex and <c>ignore_merges</c> are applied here, because BpeTokenizer has no notion of the
/// latter two and matches special tokens only inside its own pre-tokenizer.
/// </summary>
/// <remarks>
/// <see cref="Encode"/> adds no BOS/EOS (the services add EOS to completions themselves). Added tokens are matched in
/// the raw text whether or not they are marked special, as the Hugging Face runtime does.
/// </remarks>
public sealed class HuggingFaceTokenizer : ISavableTokenizer
{
    public const string TokenizerFileName = "tokenizer.json";
    public const string TokenizerConfigFileName = "tokenizer_config.json";
    public const string GenerationConfigFileName = "generation_config.json";

    // Used by GPT-2 style files whose ByteLevel pre-tokenizer carries the split itself (use_regex: true).
    private const string Gpt2SplitPattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    // End-of-sequence tokens of well-known families, tried when no config names one.
    private static readonly string[] KnownEosTokens = ["<|endoftext|>", "<|end_of_text|>", "</s>", "<|im_end|>", "<|eot_id|>"];

    private static readonly Regex WholeInput = new(@"[\s\S]+", RegexOptions.CultureInvariant);

    private readonly BpeTokenizer _bpe;
    private readonly Regex _split;
    private readonly NormalizationForm? _normalization;
    private readonly bool _ignoreMerges;
    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<int, string> _tokenById;
    private readonly Dictionary<string, int> _addedTokenIds;
    private readonly Dictionary<int, string> _addedTokenById;
    private readonly Regex? _addedTokenPattern;
    private readonly IReadOnlyDictionary<string, byte[]> _files;

    private HuggingFaceTokenizer(
        BpeTokenizer bpe,
        Regex split,
        NormalizationForm? normalization,
        bool ignoreMerges,
        Dictionary<string, int> vocabulary,
        Dictionary<string, int> addedTokenIds,
        int eosTokenId,
        int padTokenId,
        string fingerprint,
        IReadOnlyDictionary<string, byte[]> files)
    {
        _bpe = bpe;
        _split = split;
        _normalization = normalization;
        _ignoreMerges = ignoreMerges;
        _vocabulary = vocabulary;
        _tokenById = vocabulary.ToDictionary(pair => pair.Value, pair => pair.Key);
        _addedTokenIds = addedTokenIds;
        _addedTokenById = addedTokenIds.ToDictionary(pair => pair.Value, pair => pair.Key);
        // Longest first so "<|im_start|>" wins over any token that is a prefix of it.
        _addedTokenPattern = addedTokenIds.Count == 0
            ? null
            : new Regex(
                string.Join('|', addedTokenIds.Keys.OrderByDescending(token => token.Length).ThenBy(token => token, StringComparer.Ordinal).Select(Regex.Escape)),
                RegexOptions.CultureInvariant);
        EosTokenId = eosTokenId;
        PadTokenId = padTokenId;
        Fingerprint = fingerprint;
        _files = files;
        VocabularySize = Math.Max(
            vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1,
            addedTokenIds.Count == 0 ? 0 : addedTokenIds.Values.Max() + 1);
    }

    public int VocabularySize { get; }

    public int EosTokenId { get; }

    public int PadTokenId { get; }

    public string Fingerprint { get; }

    /// <summary>Id of an added token such as <c>&lt;|im_end|&gt;</c>, or null when the file has no such token.</summary>
    public int? FindAddedToken(string content) => _addedTokenIds.TryGetValue(content, out var id) ? id : null;

    /// <summary>
    /// Reads <c>tokenizer.json</c> from <paramref name="directory"/>, and <c>tokenizer_config.json</c> /
    /// <c>generation_config.json</c> beside it when present (they decide EOS and pad).
    /// </summary>
    public static HuggingFaceTokenizer Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var files = new Dictionary<string, byte[]>();
        foreach (var name in (string[])[TokenizerFileName, TokenizerConfigFileName, GenerationConfigFileName])
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                files[name] = File.ReadAllBytes(path);
            }
        }

        if (!files.ContainsKey(TokenizerFileName))
        {
            throw new FileNotFoundException($"No {TokenizerFileName} in '{directory}'.", Path.Combine(directory, TokenizerFileName));
        }

        return FromFiles(files, directory);
    }

    /// <summary>Builds the tokenizer from file contents (as produced by <see cref="ToFiles"/>); <paramref name="source"/> names them in errors.</summary>
    public static HuggingFaceTokenizer FromFiles(IReadOnlyDictionary<string, byte[]> files, string source)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(source);
        if (!files.TryGetValue(TokenizerFileName, out var tokenizerBytes))
        {
            throw new ArgumentException($"{source}: the files hold no {TokenizerFileName}.", nameof(files));
        }

        var where = Path.Combine(source, TokenizerFileName);
        var root = ParseObject(tokenizerBytes, where);
        var model = RequireObject(root, "model", where);
        var modelType = model["type"]?.GetValue<string>();
        if (modelType != "BPE")
        {
            throw new NotSupportedException($"{where}: field 'model.type' is '{modelType}'; only byte-level BPE is supported.");
        }

        var vocabulary = ReadVocabulary(RequireObject(model, "vocab", where), where);
        var merges = ReadMerges(model["merges"] as JsonArray ?? throw new InvalidDataException($"{where}: field 'model.merges' is missing or not an array."), where);
        var addedTokens = ReadAddedTokens(root["added_tokens"], where);
        var normalization = ReadNormalization(root["normalizer"], where);
        var split = ReadSplitPattern(root["pre_tokenizer"], where);
        var ignoreMerges = model["ignore_merges"]?.GetValue<bool>() ?? false;
        if (model["byte_fallback"]?.GetValue<bool>() == true)
        {
            throw new NotSupportedException($"{where}: field 'model.byte_fallback' is true; only byte-level BPE (no byte fallback) is supported.");
        }

        var configs = ReadConfigs(files, source);
        var eosTokenId = ResolveEos(configs, addedTokens, vocabulary, source);
        var padTokenId = ResolvePad(configs, addedTokens, vocabulary, source) ?? eosTokenId;

        BpeTokenizer bpe;
        try
        {
            // Pieces arrive already split and mapped to the byte-level alphabet; without an explicit pre-tokenizer
            // BpeTokenizer would split them again at whitespace and lose the leading 'Ġ'.
            bpe = BpeTokenizer.Create(new BpeOptions(vocabulary)
            {
                Merges = merges,
                PreTokenizer = new RegexPreTokenizer(WholeInput, specialTokens: null),
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{where}: vocabulary or merges rejected by the BPE builder: {e.Message}", e);
        }

        var fingerprint = ComputeFingerprint(root, eosTokenId, padTokenId);
        return new HuggingFaceTokenizer(
            bpe, split, normalization, ignoreMerges, vocabulary, addedTokens, eosTokenId, padTokenId, fingerprint,
            files.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray()));
    }

    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        var start = 0;
        if (_addedTokenPattern is not null)
        {
            foreach (Match match in _addedTokenPattern.Matches(text))
            {
                EncodeOrdinaryText(text.AsSpan(start, match.Index - start), ids);
                ids.Add(_addedTokenIds[match.Value]);
                start = match.Index + match.Length;
            }
        }

        EncodeOrdinaryText(text.AsSpan(start), ids);
        return ids;
    }

    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        var pendingBytes = new List<byte>();
        foreach (var id in ids)
        {
            if (_addedTokenById.TryGetValue(id, out var addedToken))
            {
                FlushBytes(pendingBytes, text);
                text.Append(addedToken);
                continue;
            }

            var token = _tokenById.GetValueOrDefault(id)
                ?? throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary of {VocabularySize}.");
            foreach (var c in token)
            {
                // Every character of a byte-level token stands for one byte; see ByteLevelAlphabet.
                pendingBytes.Add(ByteLevelAlphabet.ToByte(c));
            }
        }

        FlushBytes(pendingBytes, text);
        return text.ToString();
    }

    public IReadOnlyDictionary<string, byte[]> ToFiles() => _files.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray());

    private void EncodeOrdinaryText(ReadOnlySpan<char> span, List<int> ids)
    {
        if (span.IsEmpty)
        {
            return;
        }

        var text = _normalization is { } form ? span.ToString().Normalize(form) : span.ToString();
        foreach (Match piece in _split.Matches(text))
        {
            if (piece.Length == 0)
            {
                continue;
            }

            var byteLevelPiece = ByteLevelAlphabet.Encode(piece.Value);
            if (_ignoreMerges && _vocabulary.TryGetValue(byteLevelPiece, out var wholeId))
            {
                ids.Add(wholeId);
                continue;
            }

            ids.AddRange(_bpe.EncodeToIds(byteLevelPiece));
        }
    }

    private static void FlushBytes(List<byte> pendingBytes, StringBuilder text)
    {
        if (pendingBytes.Count == 0)
        {
            return;
        }

        text.Append(Encoding.UTF8.GetString(pendingBytes.ToArray()));
        pendingBytes.Clear();
    }

    private static Dictionary<string, int> ReadVocabulary(JsonObject vocab, string where)
    {
        var vocabulary = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        foreach (var (token, value) in vocab)
        {
            if (value is not JsonValue idValue || !idValue.TryGetValue<int>(out var id) || id < 0)
            {
                throw new InvalidDataException($"{where}: field 'model.vocab' entry '{token}' is not a non-negative integer id.");
            }

            vocabulary[token] = id;
        }

        if (vocabulary.Values.Distinct().Count() != vocabulary.Count)
        {
            throw new InvalidDataException($"{where}: field 'model.vocab' gives the same id to two tokens.");
        }

        return vocabulary;
    }

    private static List<string> ReadMerges(JsonArray merges, string where)
    {
        // Older files store "a b", newer ones ["a", "b"]; BpeTokenizer takes the string form.
        var result = new List<string>(merges.Count);
        for (var i = 0; i < merges.Count; i++)
        {
            result.Add(merges[i] switch
            {
                JsonValue value when value.TryGetValue<string>(out var pair) && pair.Split(' ').Length == 2 => pair,
                JsonArray { Count: 2 } pair when pair[0] is JsonValue a && pair[1] is JsonValue b
                    && a.TryGetValue<string>(out var left) && b.TryGetValue<string>(out var right) => $"{left} {right}",
                _ => throw new InvalidDataException($"{where}: field 'model.merges[{i}]' is neither \"a b\" nor [\"a\", \"b\"]."),
            });
        }

        return result;
    }

    private static Dictionary<string, int> ReadAddedTokens(JsonNode? node, string where)
    {
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (node is null)
        {
            return added;
        }

        if (node is not JsonArray array)
        {
            throw new InvalidDataException($"{where}: field 'added_tokens' is not an array.");
        }

        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject token
                || token["content"] is not JsonValue content || !content.TryGetValue<string>(out var text) || text.Length == 0
                || token["id"] is not JsonValue idNode || !idNode.TryGetValue<int>(out var id) || id < 0)
            {
                throw new InvalidDataException($"{where}: field 'added_tokens[{i}]' needs a non-empty 'content' and a non-negative 'id'.");
            }

            added[text] = id;
        }

        return added;
    }

    private static NormalizationForm? ReadNormalization(JsonNode? node, string where)
    {
        if (node is null)
        {
            return null;
        }

        var type = node["type"]?.GetValue<string>();
        return type switch
        {
            "NFC" => NormalizationForm.FormC,
            "NFD" => NormalizationForm.FormD,
            "NFKC" => NormalizationForm.FormKC,
            "NFKD" => NormalizationForm.FormKD,
            _ => throw new NotSupportedException($"{where}: field 'normalizer.type' is '{type}'; only none, NFC, NFD, NFKC and NFKD are supported."),
        };
    }

    private static Regex ReadSplitPattern(JsonNode? node, string where)
    {
        // Supported shapes: Sequence[Split(regex, Isolated), ByteLevel(use_regex: false)] as in Qwen2/3 and Llama 3,
        // or a lone ByteLevel(use_regex: true) as in GPT-2.
        var steps = node?["type"]?.GetValue<string>() == "Sequence"
            ? (node["pretokenizers"] as JsonArray ?? throw new InvalidDataException($"{where}: field 'pre_tokenizer.pretokenizers' is missing."))
                .Select(step => step as JsonObject ?? throw new InvalidDataException($"{where}: field 'pre_tokenizer.pretokenizers' holds a non-object."))
                .ToList()
            : node is JsonObject single ? [single] : [];

        string? pattern = null;
        var sawByteLevel = false;
        foreach (var step in steps)
        {
            switch (step["type"]?.GetValue<string>())
            {
                case "Split":
                    if (pattern is not null || step["pattern"]?["Regex"] is not JsonValue regex || !regex.TryGetValue<string>(out var value)
                        || step["behavior"]?.GetValue<string>() != "Isolated" || step["invert"]?.GetValue<bool>() == true)
                    {
                        throw new NotSupportedException($"{where}: field 'pre_tokenizer' has a Split step other than one Isolated, non-inverted Regex split.");
                    }

                    pattern = value;
                    break;
                case "ByteLevel":
                    if (step["add_prefix_space"]?.GetValue<bool>() == true)
                    {
                        throw new NotSupportedException($"{where}: field 'pre_tokenizer' ByteLevel with add_prefix_space is not supported.");
                    }

                    if (step["use_regex"]?.GetValue<bool>() ?? true)
                    {
                        pattern ??= Gpt2SplitPattern;
                    }

                    sawByteLevel = true;
                    break;
                default:
                    throw new NotSupportedException($"{where}: field 'pre_tokenizer' step '{step["type"]}' is not supported (only Split and ByteLevel).");
            }
        }

        if (!sawByteLevel || pattern is null)
        {
            throw new NotSupportedException($"{where}: field 'pre_tokenizer' is not a byte-level pre-tokenizer with a split regex.");
        }

        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{where}: field 'pre_tokenizer' regex does not compile in .NET: {e.Message}", e);
        }
    }

    private sealed record TokenizerConfigs(JsonObject? Tokenizer, JsonObject? Generation);

    private static TokenizerConfigs ReadConfigs(IReadOnlyDictionary<string, byte[]> files, string source) => new(
        files.TryGetValue(TokenizerConfigFileName, out var tokenizerConfig) ? ParseObject(tokenizerConfig, Path.Combine(source, TokenizerConfigFileName)) : null,
        files.TryGetValue(GenerationConfigFileName, out var generationConfig) ? ParseObject(generationConfig, Path.Combine(source, GenerationConfigFileName)) : null);

    private static int ResolveEos(TokenizerConfigs configs, Dictionary<string, int> added, Dictionary<string, int> vocabulary, string source) =>
        FromTokenizerConfig(configs.Tokenizer, "eos_token", added, vocabulary, source)
        ?? FromGenerationConfig(configs.Generation, "eos_token_id", source)
        ?? KnownEosTokens.Select(token => added.TryGetValue(token, out var id) ? id : (int?)null).FirstOrDefault(id => id is not null)
        ?? throw new InvalidDataException(
            $"{source}: cannot tell the end-of-sequence token: no 'eos_token' in {TokenizerConfigFileName}, no 'eos_token_id' in {GenerationConfigFileName}, and none of {string.Join(", ", KnownEosTokens)} among the added tokens.");

    private static int? ResolvePad(TokenizerConfigs configs, Dictionary<string, int> added, Dictionary<string, int> vocabulary, string source) =>
        FromTokenizerConfig(configs.Tokenizer, "pad_token", added, vocabulary, source)
        ?? FromGenerationConfig(configs.Generation, "pad_token_id", source);

    private static int? FromTokenizerConfig(JsonObject? config, string field, Dictionary<string, int> added, Dictionary<string, int> vocabulary, string source)
    {
        // The value is a token string, an AddedToken object {"content": ...}, or null.
        var token = config?[field] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            JsonObject obj when obj["content"] is JsonValue content && content.TryGetValue<string>(out var text) => text,
            _ => throw new InvalidDataException($"{Path.Combine(source, TokenizerConfigFileName)}: field '{field}' is neither a string nor an object with 'content'."),
        };
        if (token is null)
        {
            return null;
        }

        return added.TryGetValue(token, out var id) || vocabulary.TryGetValue(token, out id)
            ? id
            : throw new InvalidDataException($"{Path.Combine(source, TokenizerConfigFileName)}: field '{field}' names '{token}', which is not in the vocabulary.");
    }

    private static int? FromGenerationConfig(JsonObject? config, string field, string source) => config?[field] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<int>(out var id) => id,
        // A list means "any of these stops generation"; the first is the primary one.
        JsonArray { Count: > 0 } list when list[0] is JsonValue first && first.TryGetValue<int>(out var id) => id,
        _ => throw new InvalidDataException($"{Path.Combine(source, GenerationConfigFileName)}: field '{field}' is neither an integer nor a non-empty list of integers."),
    };

    private static JsonObject ParseObject(byte[] bytes, string where)
    {
        try
        {
            return JsonNode.Parse(bytes) as JsonObject ?? throw new InvalidDataException($"{where}: the top level is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: malformed JSON: {e.Message}", e);
        }
    }

    private static JsonObject RequireObject(JsonObject parent, string field, string where) =>
        parent[field] as JsonObject ?? throw new InvalidDataException($"{where}: field '{field}' is missing or not an object.");

    private static string ComputeFingerprint(JsonObject root, int eosTokenId, int padTokenId)
    {
        // Canonical form: the whole file minus the runtime-only truncation/padding settings, object keys sorted
        // ordinally at every level, merges in "a b" form (both spellings tokenize alike), then the EOS and pad ids.
        var canonical = new JsonObject();
        foreach (var (key, value) in root)
        {
            if (key is not ("truncation" or "padding"))
            {
                canonical[key] = value?.DeepClone();
            }
        }

        if (canonical["model"]?["merges"] is JsonArray merges)
        {
            canonical["model"]!["merges"] = new JsonArray(
                merges.Select(merge => (JsonNode?)JsonValue.Create(merge is JsonArray pair ? $"{pair[0]} {pair[1]}" : merge!.GetValue<string>())).ToArray());
        }

        canonical["distill_eos_token_id"] = eosTokenId;
        canonical["distill_pad_token_id"] = padTokenId;

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var writer = new Utf8JsonWriter(new HashingBufferWriter(hash)))
        {
            WriteCanonical(writer, canonical);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (key, value) in obj.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(key);
                    WriteCanonical(writer, value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    /// <summary>Feeds what a <see cref="Utf8JsonWriter"/> writes straight into a hash, so a 10 MB file is never copied whole.</summary>
    private sealed class HashingBufferWriter(IncrementalHash hash) : System.Buffers.IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[64 * 1024];

        public void Advance(int count) => hash.AppendData(_buffer, 0, count);

        public Memory<byte> GetMemory(int sizeHint = 0) => EnsureCapacity(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => EnsureCapacity(sizeHint).Span;

        private Memory<byte> EnsureCapacity(int sizeHint)
        {
            if (sizeHint > _buffer.Length)
            {
                _buffer = new byte[sizeHint];
            }

            return _buffer;
        }
    }
}
