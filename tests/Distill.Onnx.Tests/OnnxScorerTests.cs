using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.Onnx;

namespace Distill.Onnx.Tests;

/// <summary>The same weights through ONNX Runtime and through the TorchSharp model (<see cref="ModelScorer"/>) give the same log-probs.</summary>
public sealed class OnnxScorerTests : IDisposable
{
    private const float Tolerance = 1e-3f;

    private static readonly ScoringItem[] LeftPaddedBatch =
    [
        new([3, 17, 4], [9, 22, 1, 38, 5]),
        new([11], [2]),
        new([7, 7, 30, 12, 0, 39, 8], [14, 3]),
        new([5, 6], []),
    ];

    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string, string> Models => new()
    {
        { "llama-gqa", TinyModels.Llama },
        { "qwen2-qkv-bias", TinyModels.Qwen2 },
        { "llama-tied-embeddings", TinyModels.TiedLlama },
        { "qwen3-qk-norm", TinyModels.Qwen3 },
        { "llama3-rope-scaling", TinyModels.Llama3RopeScaling },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Log_probs_and_top_k_of_a_left_padded_batch_match_the_torch_model(string name, string configJson)
    {
        var config = TinyModels.WriteConfig(_directory.Path, configJson);
        using var model = TinyModels.RandomModel(config, seed: name.Length);
        OnnxCausalLmExporter.Export(config, model.state_dict(), _directory.Combine(OptimumCausalLm.ModelFileName));
        using var onnx = OnnxScorer.FromCheckpoint(_directory.Path);

        var expected = await new ModelScorer(model).ScoreAsync(LeftPaddedBatch, topK: 3);
        var actual = await onnx.ScoreAsync(LeftPaddedBatch, topK: 3);

        AssertSameScores(name, expected, actual);
    }

    [Fact]
    public async Task A_checkpoint_directory_exports_next_to_its_weights_and_scores_like_the_torch_model()
    {
        var config = TinyModels.WriteConfig(_directory.Path, TinyModels.Qwen2);
        var checkpoint = Path.Combine(_directory.Path, "checkpoint");
        using var model = TinyModels.RandomModel(config, seed: 11);
        ModelCheckpoint.Save(checkpoint, model, config);

        var exported = OnnxCausalLmExporter.ExportCheckpoint(checkpoint);
        using var onnx = OnnxScorer.FromCheckpoint(checkpoint);

        Assert.Equal(Path.Combine(checkpoint, OptimumCausalLm.ModelFileName), exported);
        var expected = await new ModelScorer(model).ScoreAsync(LeftPaddedBatch, topK: 0);
        AssertSameScores("checkpoint", expected, await onnx.ScoreAsync(LeftPaddedBatch, topK: 0));
    }

    [Fact]
    public async Task Top_k_is_the_most_likely_tokens_in_order_and_agrees_with_the_log_probs()
    {
        using var scorer = ExportLlama();

        var scored = await scorer.ScoreAsync(LeftPaddedBatch, topK: 5);

        for (var i = 0; i < LeftPaddedBatch.Length; i++)
        {
            var top = scored[i].TopK!;
            Assert.Equal(LeftPaddedBatch[i].CompletionTokenIds.Length, top.Length);
            for (var t = 0; t < top.Length; t++)
            {
                Assert.Equal(5, top[t].Length);
                Assert.Equal(5, top[t].Select(c => c.TokenId).Distinct().Count());
                Assert.True(top[t].Zip(top[t].Skip(1)).All(pair => pair.First.LogProb >= pair.Second.LogProb));
                Assert.True(top[t].Sum(c => Math.Exp(c.LogProb)) <= 1.0 + 1e-5);
                var token = LeftPaddedBatch[i].CompletionTokenIds[t];
                if (top[t].Any(c => c.TokenId == token))
                    Assert.Equal(scored[i].LogProbs[t], top[t].Single(c => c.TokenId == token).LogProb, 5);
                else
                    Assert.True(scored[i].LogProbs[t] <= top[t][^1].LogProb);
            }
        }
    }

    [Fact]
    public void Vocabulary_and_context_come_from_the_config()
    {
        using var scorer = ExportLlama();

        Assert.Equal(40, scorer.VocabularySize);
        Assert.Equal(64, scorer.MaxContext);
    }

    [Fact]
    public async Task Invalid_items_are_refused_naming_the_item()
    {
        using var scorer = ExportLlama();

        var outsideVocabulary = await Assert.ThrowsAsync<ArgumentException>(() =>
            scorer.ScoreAsync([new([1, 2], [3]), new([1, 40], [3])], topK: 0));
        Assert.Contains("batch[1] prompt token 1 is 40", outsideVocabulary.Message);

        var negative = await Assert.ThrowsAsync<ArgumentException>(() => scorer.ScoreAsync([new([1, 2], [-1])], topK: 0));
        Assert.Contains("batch[0] completion token 0 is -1", negative.Message);

        var overContext = await Assert.ThrowsAsync<ArgumentException>(() =>
            scorer.ScoreAsync([new([1], [2]), new(new int[40], new int[25])], topK: 0));
        Assert.Contains("batch[1] has 65 tokens, over the model's context of 64", overContext.Message);

        var emptyPrompt = await Assert.ThrowsAsync<ArgumentException>(() => scorer.ScoreAsync([new([], [2])], topK: 0));
        Assert.Contains("batch[0] has an empty prompt", emptyPrompt.Message);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => scorer.ScoreAsync([new([1], [2])], topK: 41));
    }

    [Fact]
    public void Cuda_without_the_gpu_package_is_a_clear_error()
    {
        ExportLlamaCheckpoint();

        var error = Assert.Throws<InvalidOperationException>(() =>
            OnnxScorer.FromCheckpoint(_directory.Path, new OnnxScorerOptions { UseCuda = true }));
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", error.Message);
    }

    private static void AssertSameScores(string name, IReadOnlyList<ScoredCompletion> expected, IReadOnlyList<ScoredCompletion> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].LogProbs.Length, actual[i].LogProbs.Length);
            for (var t = 0; t < expected[i].LogProbs.Length; t++)
            {
                Assert.True(Math.Abs(expected[i].LogProbs[t] - actual[i].LogProbs[t]) <= Tolerance,
                    $"{name} item {i} token {t}: torch {expected[i].LogProbs[t]}, onnx {actual[i].LogProbs[t]}");
                if (expected[i].TopK is { } expectedTop)
                {
                    var actualTop = actual[i].TopK![t];
                    Assert.Equal(expectedTop[t].Select(c => c.TokenId), actualTop.Select(c => c.TokenId));
                    Assert.All(expectedTop[t].Zip(actualTop), pair => Assert.True(Math.Abs(pair.First.LogProb - pair.Second.LogProb) <= Tolerance,
                        $"{name} item {i} token {t} top-k: torch {pair.First.LogProb}, onnx {pair.Second.LogProb}"));
                }
            }
        }
    }

    private OnnxScorer ExportLlama()
    {
        ExportLlamaCheckpoint();
        return OnnxScorer.FromCheckpoint(_directory.Path);
    }

    private void ExportLlamaCheckpoint()
    {
        var config = TinyModels.WriteConfig(_directory.Path, TinyModels.Llama);
        using var model = TinyModels.RandomModel(config, seed: 3);
        OnnxCausalLmExporter.Export(config, model.state_dict(), _directory.Combine(OptimumCausalLm.ModelFileName));
    }
}
