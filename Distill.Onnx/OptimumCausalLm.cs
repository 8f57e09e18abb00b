namespace Distill.Onnx;

/// <summary>
/// The input and output names of a Hugging Face Optimum <c>text-generation</c> ONNX export (no past key values),
/// which our exporter writes and our scorer reads.
/// </summary>
public static class OptimumCausalLm
{
    /// <summary>int64 [batch_size, sequence_length].</summary>
    public const string InputIds = "input_ids";

    /// <summary>int64 [batch_size, sequence_length]; 1 for real tokens, 0 for padding.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>
    /// int64 [batch_size, sequence_length], exactly the shape of <see cref="InputIds"/>; optional in our exports,
    /// which compute Hugging Face's positions from the attention mask when it is not fed.
    /// </summary>
    public const string PositionIds = "position_ids";

    /// <summary>float32 [batch_size, sequence_length, vocab_size].</summary>
    public const string Logits = "logits";

    public const string BatchDim = "batch_size";
    public const string SequenceDim = "sequence_length";

    /// <summary>The file name the exporter writes inside a checkpoint directory, as Optimum names it.</summary>
    public const string ModelFileName = "model.onnx";
}
