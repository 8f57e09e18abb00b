using Distill.Core.Generation;
using Distill.Core.Modeling;
using Distill.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Tests.Scoring;

public class ScoringTests
{
    [Fact]
    public async Task LogProbsOfAHandSetModelMatchTheArithmetic()
    {
        // Attention and MLP outputs are zeroed, so the logits after token x are lm_head · rmsnorm(embedding[x]).
        var config = new LlamaConfig
        {
            ModelType = LlamaConfig.Llama, VocabSize = 3, HiddenSize = 2, IntermediateSize = 2, NumHiddenLayers = 1,
            NumAttentionHeads = 1, NumKeyValueHeads = 1, HeadDim = 2, MaxPositionEmbeddings = 8, RmsNormEps = 1e-6,
        };
        using var model = new LlamaForCausalLM(config);
        using (no_grad())
        {
            foreach (var (name, parameter) in model.named_parameters())
                parameter.zero_();
            model.state_dict()["model.embed_tokens.weight"].copy_(tensor(new float[] { 1, 0, 0, 1, 1, 1 }).reshape(3, 2));
            model.state_dict()["lm_head.weight"].copy_(tensor(new float[] { 1, 0, 0, 1, -1, -1 }).reshape(3, 2));
            model.state_dict()["model.norm.weight"].fill_(1);
        }

        double scale = 1 / Math.Sqrt(0.5 + 1e-6);   // rmsnorm of a one-hot 2-vector
        double[] afterToken0 = [scale, 0, -scale];
        double[] afterToken1 = [0, scale, -scale];
        double LogSoftmax(double[] logits, int token) => logits[token] - Math.Log(logits.Sum(Math.Exp));

        var scored = await new ModelScorer(model).ScoreAsync([new ScoringItem([0], [1, 2])], topK: 2);

        Assert.Equal(LogSoftmax(afterToken0, 1), scored[0].LogProbs[0], 5);
        Assert.Equal(LogSoftmax(afterToken1, 2), scored[0].LogProbs[1], 5);
        Assert.Equal(new[] { 0, 1 }, scored[0].TopK![0].Select(candidate => candidate.TokenId));
        Assert.Equal(LogSoftmax(afterToken0, 0), scored[0].TopK![0][0].LogProb, 5);
        Assert.Equal(new[] { 1, 0 }, scored[0].TopK![1].Select(candidate => candidate.TokenId));
    }

    [Fact]
    public async Task BatchedScoresEqualScoringEachItemAloneAndMatchGeneration()
    {
        using var model = TinyModels.Create();
        var generated = new CompletionGenerator(model).Generate([[1, 5, 9, 4], [1, 3]], padTokenId: 0,
            new SamplingOptions { MaxNewTokens = 5, Temperature = 1, Seed = 3 });
        ScoringItem[] items =
        [
            new([1, 5, 9, 4], generated[0].TokenIds),
            new([1, 3], generated[1].TokenIds),
            new([1, 3, 6], []),
        ];
        var scorer = new ModelScorer(model);

        var batched = await scorer.ScoreAsync(items, topK: 0);

        for (int i = 0; i < items.Length; i++)
        {
            var alone = await scorer.ScoreAsync([items[i]], topK: 0);
            Assert.Equal(alone[0].LogProbs.Length, batched[i].LogProbs.Length);
            for (int t = 0; t < alone[0].LogProbs.Length; t++)
                Assert.Equal(alone[0].LogProbs[t], batched[i].LogProbs[t], 4);
            Assert.Null(batched[i].TopK);
        }
        for (int i = 0; i < 2; i++)
            for (int t = 0; t < generated[i].LogProbs.Length; t++)
                Assert.Equal(generated[i].LogProbs[t], batched[i].LogProbs[t], 4);
    }

    [Fact]
    public async Task TensorLogProbsCarryGradientAndMatchTheScorer()
    {
        using var model = TinyModels.Create();
        ScoringItem[] items = [new([1, 5, 9], [4, 7, 2]), new([1], [8])];

        using var result = CompletionLogProbs.Compute(model, items, SamplerPolicy.Untempered, withEntropy: true);

        Assert.Equal(new long[] { 2, 3 }, result.LogProbs.shape);
        Assert.Equal(new[] { true, true, true, true, false, false }, result.Mask.data<bool>().ToArray());
        Assert.True(result.LogProbs.requires_grad);
        var entropy = result.Entropy!.data<float>().ToArray();
        Assert.All(entropy.Take(4), value => Assert.InRange(value, 0f, (float)Math.Log(32) + 1e-4f));
        Assert.Equal(0f, entropy[5]);

        var scored = await new ModelScorer(model).ScoreAsync(items, topK: 0);
        var values = result.LogProbs.detach().data<float>().ToArray();
        Assert.Equal(scored[0].LogProbs[2], values[2], 5);
        Assert.Equal(scored[1].LogProbs[0], values[3], 5);

        using var loss = -(result.LogProbs.sum());
        loss.backward();
        Assert.NotNull(model.state_dict()["model.layers.0.self_attn.q_proj.weight"].grad);
    }

    [Theory]
    [InlineData(new[] { 1, 2 }, new[] { 3, 32 }, "batch item 1", "32")]
    [InlineData(new[] { 1, -1 }, new[] { 3 }, "batch item 1", "-1")]
    [InlineData(new int[0], new[] { 3 }, "batch item 1", "empty")]
    public async Task InvalidItemsAreRejectedNamingTheItem(int[] prompt, int[] completion, string item, string detail)
    {
        using var model = TinyModels.Create();
        ScoringItem[] items = [new([1], [2]), new(prompt, completion)];

        var error = await Assert.ThrowsAsync<ArgumentException>(() => new ModelScorer(model).ScoreAsync(items, topK: 0));
        Assert.Contains(item, error.Message);
        Assert.Contains(detail, error.Message);
        Assert.Throws<ArgumentException>(() => CompletionLogProbs.Compute(model, items, SamplerPolicy.Untempered));
    }

    [Fact]
    public async Task ItemLongerThanTheContextIsRejected()
    {
        using var model = TinyModels.Create();
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            new ModelScorer(model).ScoreAsync([new ScoringItem(new int[40], new int[30])], topK: 0));
        Assert.Contains("batch item 0", error.Message);
        Assert.Contains("64", error.Message);
    }
}
