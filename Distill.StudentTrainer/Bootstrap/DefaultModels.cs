using Distill.Core.Modeling;
using Distill.Core.Tokenization;

namespace Distill.StudentTrainer.Bootstrap;

/// <summary>How the embedded default teacher and student are shaped and trained (supervised, on the generated task).</summary>
/// <summary>How one default model is shaped and trained; <see cref="TrainingProblems"/> limits its data (null: all 30,000).</summary>
public sealed record ModelRecipe(string Name, LlamaConfig Config, int Steps, int BatchSize, double LearningRate, int WarmupSteps, int? TrainingProblems = null);

public static class DefaultModels
{
    public const string TeacherName = "teacher";
    public const string StudentName = "student";

    /// <summary>
    /// Share of the default student's training solutions that end with <see cref="Distill.Core.Tasks.StudentSignOff"/>'s
    /// line, a habit its teacher never has and the reward cannot see: the part of the student's KL that it can unlearn,
    /// so that a budget has something to do in a short run. The rest of its KL it cannot remove in a short run (its
    /// capacity) or is pulled to keep by the reward (the teacher's blind spot). Measured in docs/default-models.md.
    /// </summary>
    public const double StudentSignOffShare = 0.3;

    /// <summary>
    /// The teacher: big enough to learn the default task to ≥ 90% greedy exact match within the bootstrap's budget
    /// on two CPU cores. The student: a quarter of the width-depth, trained to its plateau on the first 500 problems
    /// of the same data (its training loss goes to about zero well before the last step), so it is limited by its data,
    /// clearly weaker than the teacher, and the same whatever small numerical differences a machine adds (a student
    /// stopped in the middle of its learning curve moved by tens of points between machines).
    /// </summary>
    public static ModelRecipe Teacher(ITextTokenizer tokenizer) =>
        new(TeacherName, Config(tokenizer, hidden: 128, layers: 4, heads: 4, keyValueHeads: 2, intermediate: 384),
            Steps: 1000, BatchSize: 32, LearningRate: 3e-3, WarmupSteps: 50);

    public static ModelRecipe Student(ITextTokenizer tokenizer) =>
        new(StudentName, Config(tokenizer, hidden: 64, layers: 2, heads: 4, keyValueHeads: 2, intermediate: 192),
            Steps: 1500, BatchSize: 32, LearningRate: 3e-3, WarmupSteps: 50, TrainingProblems: 500);

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
