using Distill.Core.Generation;
using Distill.Core.Modeling;

namespace Distill.Core.Tests.Generation;

public class CompletionGeneratorTests
{
    private static readonly int[][] Prompts = [[1, 5, 9, 4, 11], [1, 3], [1, 20, 7]];

    [Fact]
    public void GreedyTokensAreTheSameWithAndWithoutKvCache()
    {
        using var model = TinyModels.Create(TinyModels.Config(LlamaConfig.Qwen2));
        var generator = new CompletionGenerator(model);
        var options = new SamplingOptions { MaxNewTokens = 12, Temperature = 0 };

        var cached = generator.Generate(Prompts, padTokenId: 0, options);
        var recomputed = generator.Generate(Prompts, padTokenId: 0, options with { UseKvCache = false });

        for (int row = 0; row < Prompts.Length; row++)
        {
            Assert.Equal(12, cached[row].TokenIds.Length);
            Assert.Equal(recomputed[row].TokenIds, cached[row].TokenIds);
            for (int t = 0; t < 12; t++)
                Assert.Equal(recomputed[row].LogProbs[t], cached[row].LogProbs[t], 4);
        }
    }

    [Fact]
    public void EachRowOfALeftPaddedBatchDecodesAsItWouldAlone()
    {
        using var model = TinyModels.Create();
        var generator = new CompletionGenerator(model);
        var options = new SamplingOptions { MaxNewTokens = 8, Temperature = 0 };

        var batched = generator.Generate(Prompts, padTokenId: 0, options);

        for (int row = 0; row < Prompts.Length; row++)
            Assert.Equal(generator.Generate([Prompts[row]], padTokenId: 0, options)[0].TokenIds, batched[row].TokenIds);
    }

    [Fact]
    public void SameSeedGivesTheSameSamplesAndAnotherSeedDoesNot()
    {
        using var model = TinyModels.Create();
        var generator = new CompletionGenerator(model);
        var options = new SamplingOptions { MaxNewTokens = 10, Temperature = 1.5f, TopP = 0.9f, Seed = 42 };

        var first = generator.Generate(Prompts, padTokenId: 0, options);
        var second = generator.Generate(Prompts, padTokenId: 0, options);
        var other = generator.Generate(Prompts, padTokenId: 0, options with { Seed = 43 });

        Assert.Equal(first.Select(c => c.TokenIds), second.Select(c => c.TokenIds));
        Assert.NotEqual(first.SelectMany(c => c.TokenIds), other.SelectMany(c => c.TokenIds));
    }

    [Fact]
    public void ARowStopsAfterItsStopTokenWhileOthersContinue()
    {
        using var model = TinyModels.Create();
        var generator = new CompletionGenerator(model);
        var options = new SamplingOptions { MaxNewTokens = 8, Temperature = 0 };
        var unstopped = generator.Generate(Prompts, padTokenId: 0, options);
        int stopToken = unstopped[0].TokenIds[2];

        var stopped = generator.Generate(Prompts, padTokenId: 0, options with { StopTokenIds = [stopToken] });

        for (int row = 0; row < Prompts.Length; row++)
        {
            int stopAt = Array.IndexOf(unstopped[row].TokenIds, stopToken);
            var expected = stopAt < 0 ? unstopped[row].TokenIds : unstopped[row].TokenIds[..(stopAt + 1)];
            Assert.Equal(expected, stopped[row].TokenIds);
            Assert.Equal(stopAt >= 0, stopped[row].Stopped);
        }
        Assert.True(stopped[0].Stopped);
        Assert.Equal(stopToken, stopped[0].TokenIds[^1]);
    }

    [Fact]
    public void InvalidPromptsAndOptionsAreRejected()
    {
        using var model = TinyModels.Create();
        var generator = new CompletionGenerator(model);
        var options = new SamplingOptions { MaxNewTokens = 4 };

        Assert.Contains("prompt 1", Assert.Throws<ArgumentException>(() => generator.Generate([[1], [1, 99]], 0, options)).Message);
        Assert.Contains("prompt 0", Assert.Throws<ArgumentException>(() => generator.Generate([[]], 0, options)).Message);
        Assert.Contains("context", Assert.Throws<ArgumentException>(() => generator.Generate([[1]], 0, options with { MaxNewTokens = 64 })).Message);
        Assert.Contains("TopP", Assert.Throws<ArgumentException>(() => generator.Generate([[1]], 0, options with { TopP = 0 })).Message);
    }
}
