using System.Text.Json;
using Distill.Core.Tokenization;

namespace Distill.Core.Tests.Tokenization;

public class HuggingFaceTokenizerTests
{
    public static TheoryData<string, string> Models => new()
    {
        { "qwen3", RealTokenizerFiles.Qwen3Package },
        { "llama3", RealTokenizerFiles.Llama3Package },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public async Task EncodingMatchesTheTransformersJsReference(string model, string package)
    {
        var tokenizer = HuggingFaceTokenizer.Load(await RealTokenizerFiles.GetDirectoryAsync(package));
        var expected = ReadExpectedIds(model, package);
        Assert.NotEmpty(expected);

        foreach (var (text, ids) in expected)
        {
            var actual = tokenizer.Encode(text);
            Assert.True(ids.SequenceEqual(actual), $"{model}: {JsonSerializer.Serialize(text)} encoded to [{string.Join(", ", actual)}], reference [{string.Join(", ", ids)}]");
            Assert.Equal(text, tokenizer.Decode(actual));
        }
    }

    [Fact]
    public async Task Qwen3SpecialTokensComeFromTheConfig()
    {
        var tokenizer = HuggingFaceTokenizer.Load(await RealTokenizerFiles.GetDirectoryAsync(RealTokenizerFiles.Qwen3Package));

        // tokenizer_config.json: eos_token "<|im_end|>", pad_token "<|endoftext|>".
        Assert.Equal(tokenizer.FindAddedToken("<|im_end|>"), tokenizer.EosTokenId);
        Assert.Equal(tokenizer.FindAddedToken("<|endoftext|>"), tokenizer.PadTokenId);
        Assert.Equal(151669, tokenizer.VocabularySize);
        Assert.Equal([tokenizer.EosTokenId], tokenizer.Encode("<|im_end|>"));
    }

    [Fact]
    public async Task Llama3PadsWithEosWhenTheConfigNamesNoPad()
    {
        var tokenizer = HuggingFaceTokenizer.Load(await RealTokenizerFiles.GetDirectoryAsync(RealTokenizerFiles.Llama3Package));

        Assert.Equal(tokenizer.FindAddedToken("<|end_of_text|>"), tokenizer.EosTokenId);
        Assert.Equal(tokenizer.EosTokenId, tokenizer.PadTokenId);
        Assert.Equal(128256, tokenizer.VocabularySize);
    }

    [Fact]
    public async Task GenerationConfigDecidesEosWhenTokenizerConfigIsAbsent()
    {
        var source = await RealTokenizerFiles.GetDirectoryAsync(RealTokenizerFiles.Qwen3Package);
        using var directory = new TemporaryDirectory();
        File.Copy(Path.Combine(source, "tokenizer.json"), Path.Combine(directory.Path, "tokenizer.json"));
        File.WriteAllText(Path.Combine(directory.Path, "generation_config.json"), """{"eos_token_id": [151643, 151645], "pad_token_id": 151643}""");

        var tokenizer = HuggingFaceTokenizer.Load(directory.Path);

        Assert.Equal(151643, tokenizer.EosTokenId);
        Assert.Equal(151643, tokenizer.PadTokenId);
    }

    [Fact]
    public async Task FingerprintIsStableAcrossLoadsAndSavesAndDiffersBetweenModels()
    {
        var qwenDirectory = await RealTokenizerFiles.GetDirectoryAsync(RealTokenizerFiles.Qwen3Package);
        var qwen = HuggingFaceTokenizer.Load(qwenDirectory);
        var llama = HuggingFaceTokenizer.Load(await RealTokenizerFiles.GetDirectoryAsync(RealTokenizerFiles.Llama3Package));

        using var checkpoint = new TemporaryDirectory();
        foreach (var (name, bytes) in qwen.ToFiles())
        {
            File.WriteAllBytes(Path.Combine(checkpoint.Path, name), bytes);
        }

        var reloaded = TokenizerLoader.Load(checkpoint.Path);

        Assert.IsType<HuggingFaceTokenizer>(reloaded);
        Assert.Equal(qwen.Fingerprint, reloaded.Fingerprint);
        Assert.Equal(qwen.Fingerprint, HuggingFaceTokenizer.Load(qwenDirectory).Fingerprint);
        Assert.Matches("^[0-9a-f]{64}$", qwen.Fingerprint);
        Assert.NotEqual(qwen.Fingerprint, llama.Fingerprint);
        Assert.NotEqual(qwen.Fingerprint, CharTokenizer.Default.Fingerprint);
    }

    [Fact]
    public async Task FingerprintIgnoresFormattingButNotContent()
    {
        var source = await RealTokenizerFiles.GetDirectoryAsync(RealTokenizerFiles.Qwen3Package);
        var original = HuggingFaceTokenizer.Load(source);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllBytes(Path.Combine(source, "tokenizer.json")))!.AsObject();
        var config = File.ReadAllBytes(Path.Combine(source, "tokenizer_config.json"));

        // Same content, different whitespace and padding settings: same fingerprint.
        json["padding"] = null;
        var reformatted = HuggingFaceTokenizer.FromFiles(
            new Dictionary<string, byte[]>
            {
                ["tokenizer.json"] = JsonSerializer.SerializeToUtf8Bytes(json, new JsonSerializerOptions { WriteIndented = true }),
                ["tokenizer_config.json"] = config,
            },
            "reformatted");
        Assert.Equal(original.Fingerprint, reformatted.Fingerprint);

        // One merge dropped: a different tokenizer.
        json["model"]!["merges"]!.AsArray().RemoveAt(1000);
        var changed = HuggingFaceTokenizer.FromFiles(
            new Dictionary<string, byte[]> { ["tokenizer.json"] = JsonSerializer.SerializeToUtf8Bytes(json), ["tokenizer_config.json"] = config },
            "changed");
        Assert.NotEqual(original.Fingerprint, changed.Fingerprint);
    }

    private static List<(string Text, int[] Ids)> ReadExpectedIds(string model, string package)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "tokenizers", "expected-ids.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var entry = document.RootElement.GetProperty(model);
        Assert.Equal(package, entry.GetProperty("package").GetString());
        return entry.GetProperty("cases").EnumerateArray()
            .Select(c => (c.GetProperty("text").GetString()!, c.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32()).ToArray()))
            .ToList();
    }
}
