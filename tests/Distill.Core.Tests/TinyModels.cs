using Distill.Core.Modeling;
using TorchSharp;

namespace Distill.Core.Tests;

/// <summary>Small random models for tests: seeded, and with large weights so next-token distributions are peaked.</summary>
internal static class TinyModels
{
    public static LlamaConfig Config(string modelType = LlamaConfig.Llama, bool tied = false, bool attentionBias = false) => new()
    {
        ModelType = modelType,
        VocabSize = 32,
        HiddenSize = 32,
        IntermediateSize = 64,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        HeadDim = 8,
        MaxPositionEmbeddings = 64,
        RmsNormEps = 1e-5,
        TieWordEmbeddings = tied,
        AttentionBias = attentionBias,
        BosTokenId = 1,
        EosTokenIds = [2],
        TorchDtype = "float32",
        InitializerRange = 0.3,
    };

    public static LlamaForCausalLM Create(LlamaConfig? config = null, long seed = 1234)
    {
        torch.manual_seed(seed);
        var model = new LlamaForCausalLM(config ?? Config());
        model.eval();
        return model;
    }
}
