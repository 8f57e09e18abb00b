using Distill.Core.Modeling;
using Distill.Core.Tokenization;

namespace Distill.StudentTrainer.Bootstrap;

/// <summary>How the embedded default teacher and student are shaped and trained (supervised, on the generated task).</summary>
public sealed record ModelRecipe(string Name, LlamaConfig Config, int Steps, int BatchSize, double LearningRate, int WarmupSteps);

public static class DefaultModels
{
    public const string TeacherName = "teacher";
    public const string StudentName = "student";

    /// <summary>
    /// The teacher: big enough to learn the default task to ≥ 90% greedy exact match within the bootstrap's budget
    /// on two CPU cores. The student: a quarter of the width-depth, trained briefly, so it is clearly weaker and RL
    /// has room to improve it.
    /// </summary>
    public static ModelRecipe Teacher(ITextTokenizer tokenizer) =>
        new(TeacherName, Config(tokenizer, hidden: 128, layers: 4, heads: 4, keyValueHeads: 2, intermediate: 384),
            Steps: 1000, BatchSize: 32, LearningRate: 3e-3, WarmupSteps: 50);

    public static ModelRecipe Student(ITextTokenizer tokenizer) =>
        new(StudentName, Config(tokenizer, hidden: 64, layers: 2, heads: 4, keyValueHeads: 2, intermediate: 192),
            Steps: 450, BatchSize: 32, LearningRate: 3e-3, WarmupSteps: 50);

    private static LlamaConfig Config(ITextTokenizer tokenizer, int hidden, int layers, int heads, int keyValueHeads, int intermediate) => new()
    {
        ModelType = LlamaConfig.Llama,
        VocabSize = tokenizer.VocabularySize,
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeads = keyValueHeads,
        HeadDim = hidden / heads,
        MaxPositionEmbeddings = 256,
        TieWordEmbeddings = true,
        EosTokenIds = [tokenizer.EosTokenId],
        PadTokenId = tokenizer.PadTokenId,
        TorchDtype = "float32",
    };
}
