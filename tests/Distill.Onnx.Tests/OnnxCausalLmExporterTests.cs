using Distill.Core.Modeling;
using Distill.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Distill.Onnx.Tests;

public sealed class OnnxCausalLmExporterTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Exported_model_loads_in_onnx_runtime_with_the_optimum_names_and_dtypes()
    {
        var model = Export(TinyModels.Llama);

        using var session = new InferenceSession(model);
        Assert.Equal([OptimumCausalLm.InputIds, OptimumCausalLm.AttentionMask], session.InputMetadata.Keys.Order().Reverse());
        Assert.All(session.InputMetadata.Values, input =>
        {
            Assert.Equal(TensorElementType.Int64, input.ElementDataType);
            Assert.Equal(["batch_size", "sequence_length"], input.SymbolicDimensions);
        });
        var positionIds = Assert.Single(session.OverridableInitializerMetadata);
        Assert.Equal(OptimumCausalLm.PositionIds, positionIds.Key);
        Assert.Equal(TensorElementType.Int64, positionIds.Value.ElementDataType);
        var logits = Assert.Single(session.OutputMetadata);
        Assert.Equal(OptimumCausalLm.Logits, logits.Key);
        Assert.Equal(TensorElementType.Float, logits.Value.ElementDataType);
        Assert.Equal([-1, -1, 40], logits.Value.Dimensions);
        Assert.Equal([OptimumCausalLm.ModelFileName, "config.json"], Directory.GetFiles(_directory.Path).Select(Path.GetFileName).Order().Reverse());
    }

    [Fact]
    public void Positions_computed_from_the_mask_equal_fed_position_ids()
    {
        var model = Export(TinyModels.Llama);
        long[] inputIds = [0, 0, 5, 6, 7, 1, 2, 3, 4, 5];
        long[] attentionMask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1];
        long[] positionIds = [1, 1, 0, 1, 2, 0, 1, 2, 3, 4];
        long[] shape = [2, 5];

        using var session = new InferenceSession(model);
        using var ids = OrtValue.CreateTensorValueFromMemory(inputIds, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(attentionMask, shape);
        using var positions = OrtValue.CreateTensorValueFromMemory(positionIds, shape);
        using var shifted = OrtValue.CreateTensorValueFromMemory(positionIds.Select(p => p + 3).ToArray(), shape);
        using var runOptions = new RunOptions();
        string[] logits = [OptimumCausalLm.Logits];
        using var computed = session.Run(runOptions, [OptimumCausalLm.InputIds, OptimumCausalLm.AttentionMask], [ids, mask], logits);
        using var fed = session.Run(runOptions, [OptimumCausalLm.InputIds, OptimumCausalLm.AttentionMask, OptimumCausalLm.PositionIds], [ids, mask, positions], logits);
        using var fedShifted = session.Run(runOptions, [OptimumCausalLm.InputIds, OptimumCausalLm.AttentionMask, OptimumCausalLm.PositionIds], [ids, mask, shifted], logits);

        var real = Enumerable.Range(0, 10).Where(i => attentionMask[i] == 1).ToArray();
        Assert.Equal(Rows(computed[0], real), Rows(fed[0], real));
        Assert.NotEqual(Rows(computed[0], real), Rows(fedShifted[0], real));
    }

    [Fact]
    public void Missing_tensor_is_named_and_nothing_is_written()
    {
        var config = TinyModels.WriteConfig(_directory.Path, TinyModels.Llama);
        using var model = TinyModels.RandomModel(config, seed: 1);
        var stateDict = TinyModels.StateDictCopy(model);
        try
        {
            stateDict.Remove("model.layers.1.mlp.up_proj.weight", out var removed);
            removed!.Dispose();
            var error = Assert.Throws<ArgumentException>(() => OnnxCausalLmExporter.Export(config, stateDict, _directory.Combine("model.onnx")));
            Assert.Contains("'model.layers.1.mlp.up_proj.weight'", error.Message);
            Assert.Equal(["config.json"], Directory.GetFiles(_directory.Path).Select(Path.GetFileName));
        }
        finally
        {
            TinyModels.Dispose(stateDict);
        }
    }

    [Fact]
    public void Tensor_of_the_wrong_shape_is_named_with_both_shapes()
    {
        var config = TinyModels.WriteConfig(_directory.Path, TinyModels.Llama);
        using var model = TinyModels.RandomModel(config, seed: 1);
        var stateDict = TinyModels.StateDictCopy(model);
        try
        {
            stateDict["model.layers.0.self_attn.k_proj.weight"].Dispose();
            stateDict["model.layers.0.self_attn.k_proj.weight"] = TorchSharp.torch.zeros(32, 32);
            var error = Assert.Throws<ArgumentException>(() => OnnxCausalLmExporter.Export(config, stateDict, _directory.Combine("model.onnx")));
            Assert.Contains("'model.layers.0.self_attn.k_proj.weight' has shape [32, 32], expected [16, 32]", error.Message);
        }
        finally
        {
            TinyModels.Dispose(stateDict);
        }
    }

    [Fact]
    public void Tensor_the_model_does_not_use_is_named()
    {
        var config = TinyModels.WriteConfig(_directory.Path, TinyModels.Llama);
        using var model = TinyModels.RandomModel(config, seed: 1);
        var stateDict = TinyModels.StateDictCopy(model);
        try
        {
            // A Qwen2-style bias under a Llama config means config.json and the weights disagree.
            stateDict["model.layers.0.self_attn.q_proj.bias"] = TorchSharp.torch.zeros(32);
            var error = Assert.Throws<ArgumentException>(() => OnnxCausalLmExporter.Export(config, stateDict, _directory.Combine("model.onnx")));
            Assert.Contains("model.layers.0.self_attn.q_proj.bias", error.Message);
        }
        finally
        {
            TinyModels.Dispose(stateDict);
        }
    }

    private string Export(string configJson)
    {
        using var model = TinyModels.RandomModel(TinyModels.WriteConfig(_directory.Path, configJson), seed: 7);
        var path = _directory.Combine(OptimumCausalLm.ModelFileName);
        OnnxCausalLmExporter.Export(_directory.Combine(ModelCheckpoint.ConfigFileName), model.state_dict(), path);
        return path;
    }

    private static float[] Rows(OrtValue logits, int[] rows)
    {
        var data = logits.GetTensorDataAsSpan<float>().ToArray();
        return rows.SelectMany(row => data.Skip(row * 40).Take(40)).ToArray();
    }
}
