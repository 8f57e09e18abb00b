using System.Text;
using Distill.Core.Tasks;
using Distill.Core.Tokenization;

namespace Distill.Core.Tests.Tokenization;

public class CharTokenizerTests
{
    [Fact]
    public void DefaultVocabularyFitsInSixtyFourIds()
    {
        var tokenizer = CharTokenizer.Default;

        Assert.True(tokenizer.VocabularySize <= CharTokenizer.MaxVocabularySize);
        Assert.Equal(0, tokenizer.PadTokenId);
        Assert.Equal(1, tokenizer.EosTokenId);
    }

    [Theory]
    [InlineData("Q: Mia has 12 apples. Mia buys 5 more. How many apples does Mia have now?\nA: ")]
    [InlineData("12+5=17\n17-3=14\n14*2=28\n28/4=7\n#### 7")]
    [InlineData("costs $4, (3 + 2) = 5; isn't it? yes! #")]
    public void EncodeThenDecodeIsTheIdentityInsideTheAlphabet(string text)
    {
        var ids = CharTokenizer.Default.Encode(text);

        Assert.Equal(text.Length, ids.Count);
        Assert.DoesNotContain(CharTokenizer.UnknownId, ids);
        Assert.Equal(text, CharTokenizer.Default.Decode(ids));
    }

    [Fact]
    public void CharactersOutsideTheAlphabetBecomeOneUnknownEach()
    {
        var ids = CharTokenizer.Default.Encode("Zoe 🎉é");

        Assert.Equal([CharTokenizer.UnknownId, .. CharTokenizer.Default.Encode("oe "), CharTokenizer.UnknownId, CharTokenizer.UnknownId], ids);
        Assert.Equal("\uFFFDoe \uFFFD\uFFFD", CharTokenizer.Default.Decode(ids));
    }

    [Fact]
    public void DecodeSkipsPadAndEosAndRejectsIdsOutsideTheVocabulary()
    {
        var tokenizer = CharTokenizer.Default;

        Assert.Equal("7", tokenizer.Decode([tokenizer.PadTokenId, .. tokenizer.Encode("7"), tokenizer.EosTokenId]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([tokenizer.VocabularySize]));
    }

    [Fact]
    public void GeneratedProblemsAndPromptsStayInsideTheAlphabet()
    {
        var options = new MathProblemOptions { Operations = Enum.GetValues<ArithmeticOperation>(), MaxSteps = 4 };
        foreach (var problem in new MathProblemGenerator(options).Generate(ProblemSplit.Train, seed: 3, count: 500))
        {
            Assert.True(CharTokenizer.Default.CanEncodeExactly(PromptFormat.Render(problem.Question) + problem.Solution), problem.Question);
        }
    }

    [Fact]
    public void SavesAndLoadsThroughTheCheckpointDirectory()
    {
        using var checkpoint = new TemporaryDirectory();
        foreach (var (name, bytes) in CharTokenizer.Default.ToFiles())
        {
            File.WriteAllBytes(Path.Combine(checkpoint.Path, name), bytes);
        }

        var loaded = Assert.IsType<CharTokenizer>(TokenizerLoader.Load(checkpoint.Path));

        Assert.Equal(CharTokenizer.Default.Alphabet, loaded.Alphabet);
        Assert.Equal(CharTokenizer.Default.Fingerprint, loaded.Fingerprint);
    }

    [Fact]
    public void FingerprintIsLowerHexSha256AndDependsOnTheAlphabet()
    {
        var fingerprint = new CharTokenizer().Fingerprint;

        Assert.Matches("^[0-9a-f]{64}$", fingerprint);
        Assert.Equal(CharTokenizer.Default.Fingerprint, fingerprint);
        Assert.NotEqual(fingerprint, new CharTokenizer("0123456789+-=#\n ").Fingerprint);
        Assert.NotEqual(new CharTokenizer("ab").Fingerprint, new CharTokenizer("ba").Fingerprint);
    }

    [Theory]
    [InlineData("")]
    [InlineData("aba")]
    [InlineData("\uD83C")]
    public void RejectsBadAlphabets(string alphabet) => Assert.Throws<ArgumentException>(() => new CharTokenizer(alphabet));

    [Fact]
    public void RejectsAlphabetsTooLargeForSixtyFourIds() =>
        Assert.Throws<ArgumentException>(() => new CharTokenizer(new string(Enumerable.Range(0x4E00, 62).Select(c => (char)c).ToArray())));
}

public class TokenizerLoaderTests
{
    [Fact]
    public void DirectoryWithNoTokenizerNamesTheDirectory()
    {
        using var empty = new TemporaryDirectory();

        var error = Assert.Throws<FileNotFoundException>(() => TokenizerLoader.Load(empty.Path));

        Assert.Contains(empty.Path, error.Message);
    }

    [Fact]
    public void MissingDirectoryIsNamed()
    {
        var missing = Path.Combine(Path.GetTempPath(), "distill-no-such-directory");

        var error = Assert.Throws<DirectoryNotFoundException>(() => TokenizerLoader.Load(missing));

        Assert.Contains(missing, error.Message);
    }

    [Theory]
    [InlineData("{not json", "not a valid char tokenizer")]
    [InlineData("""{"format":"other","version":1,"specialTokens":["<pad>","<eos>","<unk>"],"alphabet":"ab"}""", "'format'")]
    [InlineData("""{"format":"distill-char-tokenizer","version":2,"specialTokens":["<pad>","<eos>","<unk>"],"alphabet":"ab"}""", "'version'")]
    [InlineData("""{"format":"distill-char-tokenizer","version":1,"specialTokens":["<eos>"],"alphabet":"ab"}""", "'specialTokens'")]
    [InlineData("""{"format":"distill-char-tokenizer","version":1,"specialTokens":["<pad>","<eos>","<unk>"],"alphabet":"aa"}""", "'alphabet'")]
    public void MalformedCharTokenizerFileNamesFileAndField(string content, string expectedInMessage)
    {
        using var directory = new TemporaryDirectory();
        File.WriteAllText(Path.Combine(directory.Path, CharTokenizer.FileName), content);

        var error = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(directory.Path));

        Assert.Contains(Path.Combine(directory.Path, CharTokenizer.FileName), error.Message);
        Assert.Contains(expectedInMessage, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("""{"model": {"type": "Unigram"}}""", "'model.type'")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}}""", "'model.vocab'")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [3]}}""", "'model.merges[0]'")]
    public void MalformedHuggingFaceFileNamesFileAndField(string content, string expectedInMessage)
    {
        using var directory = new TemporaryDirectory();
        File.WriteAllText(Path.Combine(directory.Path, HuggingFaceTokenizer.TokenizerFileName), content);

        var error = Assert.ThrowsAny<Exception>(() => TokenizerLoader.Load(directory.Path));

        Assert.True(error is InvalidDataException or NotSupportedException, error.GetType().Name);
        Assert.Contains(Path.Combine(directory.Path, HuggingFaceTokenizer.TokenizerFileName), error.Message);
        Assert.Contains(expectedInMessage, error.Message);
    }

    [Fact]
    public void CharTokenizerWinsWhenBothFilesArePresent()
    {
        using var directory = new TemporaryDirectory();
        File.WriteAllBytes(Path.Combine(directory.Path, CharTokenizer.FileName), CharTokenizer.Default.ToFiles()[CharTokenizer.FileName]);
        File.WriteAllText(Path.Combine(directory.Path, HuggingFaceTokenizer.TokenizerFileName), "{}", Encoding.UTF8);

        Assert.IsType<CharTokenizer>(TokenizerLoader.Load(directory.Path));
    }
}
