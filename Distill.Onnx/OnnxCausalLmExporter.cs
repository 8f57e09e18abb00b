using Distill.Core.Modeling;
using Distill.Core.Safetensors;
using Distill.Onnx.Protos;
using Google.Protobuf;
using TorchSharp;
using static Distill.Onnx.OnnxGraphBuilder;
using DataType = Distill.Onnx.Protos.TensorProto.Types.DataType;

namespace Distill.Onnx;

/// <summary>
/// Writes a Llama-family model (Hugging Face state-dict names and semantics) as an ONNX causal LM with the Optimum
/// interface: <c>input_ids</c>, <c>attention_mask</c> and optional <c>position_ids</c> in, <c>logits</c> out.
/// The graph uses standard opset-17 operators only, so any ONNX runtime can run it.
/// </summary>
public static class OnnxCausalLmExporter
{
    public const int OpsetVersion = 17;

    /// <summary>IR version 8 is the one that introduced opset 17.</summary>
    private const long IrVersion = 8;

    /// <summary>A protobuf message, and so an ONNX file without external data, cannot exceed 2 GiB.</summary>
    private const long ProtobufLimitBytes = int.MaxValue;

    /// <summary>
    /// Exports a Hugging Face checkpoint directory (config.json + safetensors, single or sharded) to
    /// <c>model.onnx</c> inside it, where <see cref="OnnxScorer.FromCheckpoint"/> and Optimum look for it.
    /// </summary>
    /// <returns>The path of the written model.</returns>
    /// <exception cref="ModelConfigException">config.json is malformed or invalid.</exception>
    /// <exception cref="InvalidDataException">A weight is missing, unexpected or misshapen; names the file and tensor.</exception>
    public static string ExportCheckpoint(string checkpointDirectory)
    {
        var (config, model) = ModelCheckpoint.Load(checkpointDirectory, torch.CPU, torch.float32);
        using (model)
        {
            var outputPath = Path.Combine(checkpointDirectory, OptimumCausalLm.ModelFileName);
            Export(config, model.state_dict(), outputPath);
            return outputPath;
        }
    }

    /// <summary>Exports with the configuration read from a Hugging Face <c>config.json</c>.</summary>
    public static void Export(string configPath, IReadOnlyDictionary<string, torch.Tensor> stateDict, string outputPath) =>
        Export(LlamaConfig.Load(configPath), stateDict, outputPath);

    /// <summary>
    /// Builds the graph from <paramref name="stateDict"/> (any dtype and device; stored as float32) and writes it to
    /// <paramref name="outputPath"/> atomically: a reader never sees a half-written model.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor is missing, has the wrong shape, or is not part of the model.</exception>
    /// <exception cref="NotSupportedException">The weights exceed the 2 GiB protobuf limit.</exception>
    public static void Export(LlamaConfig config, IReadOnlyDictionary<string, torch.Tensor> stateDict, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        config.Validate("config");

        var expected = ExpectedTensors(config);
        var totalBytes = CheckStateDict(config, stateDict, expected);
        if (totalBytes > ProtobufLimitBytes)
            throw new NotSupportedException(
                $"the model's float32 weights take {totalBytes:N0} bytes, over the 2 GiB limit of a single protobuf message; " +
                "exporting ONNX external data (weights beside the .onnx file) is not implemented.");

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Distill.Onnx",
            ProducerVersion = typeof(OnnxCausalLmExporter).Assembly.GetName().Version?.ToString() ?? "0.0.0",
            Graph = new GraphWriter(config, stateDict).Build(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        AtomicWrite.WriteFile(outputPath, stream => model.WriteTo(stream));
    }

    /// <summary>Every tensor the model reads, by Hugging Face name, with its shape.</summary>
    internal static IReadOnlyList<(string Name, long[] Shape)> ExpectedTensors(LlamaConfig config)
    {
        long hidden = config.HiddenSize, queryWidth = (long)config.NumAttentionHeads * config.HeadDim,
            keyValueWidth = (long)config.NumKeyValueHeads * config.HeadDim, intermediate = config.IntermediateSize;
        var tensors = new List<(string, long[])> { ("model.embed_tokens.weight", [config.VocabSize, hidden]) };
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var attention = $"model.layers.{i}.self_attn";
            var mlp = $"model.layers.{i}.mlp";
            tensors.Add(($"model.layers.{i}.input_layernorm.weight", [hidden]));
            tensors.Add(($"{attention}.q_proj.weight", [queryWidth, hidden]));
            tensors.Add(($"{attention}.k_proj.weight", [keyValueWidth, hidden]));
            tensors.Add(($"{attention}.v_proj.weight", [keyValueWidth, hidden]));
            tensors.Add(($"{attention}.o_proj.weight", [hidden, queryWidth]));
            if (config.HasQkvBias)
            {
                tensors.Add(($"{attention}.q_proj.bias", [queryWidth]));
                tensors.Add(($"{attention}.k_proj.bias", [keyValueWidth]));
                tensors.Add(($"{attention}.v_proj.bias", [keyValueWidth]));
            }
            if (config.HasOutputBias)
                tensors.Add(($"{attention}.o_proj.bias", [hidden]));
            if (config.HasQkNorm)
            {
                tensors.Add(($"{attention}.q_norm.weight", [config.HeadDim]));
                tensors.Add(($"{attention}.k_norm.weight", [config.HeadDim]));
            }
            tensors.Add(($"model.layers.{i}.post_attention_layernorm.weight", [hidden]));
            tensors.Add(($"{mlp}.gate_proj.weight", [intermediate, hidden]));
            tensors.Add(($"{mlp}.up_proj.weight", [intermediate, hidden]));
            tensors.Add(($"{mlp}.down_proj.weight", [hidden, intermediate]));
        }
        tensors.Add(("model.norm.weight", [hidden]));
        if (!config.TieWordEmbeddings)
            tensors.Add(("lm_head.weight", [config.VocabSize, hidden]));
        return tensors;
    }

    /// <summary>Checks names and shapes before any work, and returns the float32 bytes the weights will take.</summary>
    private static long CheckStateDict(LlamaConfig config, IReadOnlyDictionary<string, torch.Tensor> stateDict,
        IReadOnlyList<(string Name, long[] Shape)> expected)
    {
        long totalBytes = 0;
        foreach (var (name, shape) in expected)
        {
            if (!stateDict.TryGetValue(name, out var tensor))
                throw new ArgumentException($"state dict is missing tensor '{name}' (expected shape [{string.Join(", ", shape)}]).", nameof(stateDict));
            if (!tensor.shape.SequenceEqual(shape))
                throw new ArgumentException($"state dict tensor '{name}' has shape [{string.Join(", ", tensor.shape)}], " +
                    $"expected [{string.Join(", ", shape)}].", nameof(stateDict));
            if (!torch.is_floating_point(tensor))
                throw new ArgumentException($"state dict tensor '{name}' has dtype {tensor.dtype}, expected a floating-point type.", nameof(stateDict));
            totalBytes += tensor.numel() * sizeof(float);
        }

        var expectedNames = expected.Select(t => t.Name).ToHashSet();
        var unexpected = stateDict.Keys.Where(name => !expectedNames.Contains(name) && !ModelCheckpoint.IsIgnoredOnLoad(name, config)).Order().ToList();
        if (unexpected.Count > 0)
            throw new ArgumentException($"state dict has tensors the model does not use: {string.Join(", ", unexpected)} " +
                "(does config.json match the checkpoint?).", nameof(stateDict));
        return totalBytes;
    }

    /// <summary>Lays out the forward pass, one Hugging Face module at a time.</summary>
    private sealed class GraphWriter(LlamaConfig config, IReadOnlyDictionary<string, torch.Tensor> stateDict)
    {
        private readonly OnnxGraphBuilder _graph = new("distill_causal_lm");
        private readonly int _headsPerKeyValue = config.NumAttentionHeads / config.NumKeyValueHeads;

        public GraphProto Build()
        {
            var batch = SymbolicDim(OptimumCausalLm.BatchDim);
            var sequence = SymbolicDim(OptimumCausalLm.SequenceDim);
            _graph.AddInput(OptimumCausalLm.InputIds, DataType.Int64, batch, sequence);
            _graph.AddInput(OptimumCausalLm.AttentionMask, DataType.Int64, batch, sequence);
            // An empty [0, 0] default marks "not fed": positions then come from the mask (see Positions).
            var noPositions = new TensorProto { DataType = (int)DataType.Int64 };
            noPositions.Dims.AddRange([0, 0]);
            _graph.AddOptionalInput(OptimumCausalLm.PositionIds, DataType.Int64, noPositions, batch, sequence);
            _graph.AddOutput(OptimumCausalLm.Logits, DataType.Float, batch, sequence, FixedDim(config.VocabSize));

            var (cos, sin) = RotaryTables(Positions());
            var allowed = AttentionAllowed();
            var minimum = _graph.FloatScalar("attention_masked_score", float.MinValue);

            var hidden = _graph.Node("Gather", "embeddings", [Weight("model.embed_tokens.weight"), OptimumCausalLm.InputIds],
                IntAttribute("axis", 0));
            for (var i = 0; i < config.NumHiddenLayers; i++)
            {
                var layer = $"model.layers.{i}";
                var attention = Attention(RmsNorm(hidden, $"{layer}.input_layernorm"), $"{layer}.self_attn", cos, sin, allowed, minimum);
                hidden = _graph.Node("Add", $"{layer}.attention_residual", [hidden, attention]);
                var mlp = Mlp(RmsNorm(hidden, $"{layer}.post_attention_layernorm"), $"{layer}.mlp");
                hidden = _graph.Node("Add", $"{layer}.output", [hidden, mlp]);
            }
            hidden = RmsNorm(hidden, "model.norm");

            var lmHead = config.TieWordEmbeddings
                ? _graph.Node("Transpose", "lm_head.weight.transposed", ["model.embed_tokens.weight"], IntsAttribute("perm", 1, 0))
                : TransposedWeight("lm_head.weight");
            _graph.Node("MatMul", OptimumCausalLm.Logits, [hidden, lmHead]);
            return _graph.Graph;
        }

        /// <summary>
        /// The fed <c>position_ids</c>, or Hugging Face's left-padding positions <c>cumsum(mask) - 1</c> (1 where masked).
        /// Without control flow: concatenate the fed ids (empty when not fed) with the computed ones and keep the first
        /// batch × sequence values, which are the fed ones whenever any were fed.
        /// </summary>
        private string Positions()
        {
            var one = _graph.Int64Constant("one", [1]);
            var zero = _graph.Int64Constant("zero", [0]);
            var flat = _graph.Int64Vector("flat_shape", -1);
            var cumulative = _graph.Node("CumSum", "mask_cumsum", [OptimumCausalLm.AttentionMask, one]);
            var fromMask = _graph.Node("Sub", "mask_positions", [cumulative, one]);
            var padding = _graph.Node("Equal", "is_padding", [OptimumCausalLm.AttentionMask, zero]);
            var computed = _graph.Node("Where", "computed_position_ids", [padding, one, fromMask]);

            var candidates = _graph.Node("Concat", "position_candidates",
                [_graph.Node("Reshape", "fed_positions_flat", [OptimumCausalLm.PositionIds, flat]),
                 _graph.Node("Reshape", "computed_positions_flat", [computed, flat])],
                IntAttribute("axis", 0));
            var count = _graph.Node("Reshape", "token_count",
                [_graph.Node("Size", "token_count_scalar", [OptimumCausalLm.InputIds]), _graph.Int64Vector("vector_of_one", 1)]);
            var chosen = _graph.Node("Slice", "positions_flat", [candidates, _graph.Int64Vector("slice_start", 0), count]);
            return _graph.Node("Reshape", "positions",
                [chosen, _graph.Node("Shape", "input_shape", [OptimumCausalLm.InputIds])]);
        }

        /// <summary>
        /// cos and sin of position × inv_freq, duplicated to head_dim, shaped [batch, 1, 1, seq, head_dim]; inv_freq
        /// is <c>1 / theta^(2i/d)</c> with the config's rope scaling (linear, llama3) applied, as in the torch model.
        /// </summary>
        private (string Cos, string Sin) RotaryTables(string positions)
        {
            var half = config.HeadDim / 2;
            var unscaled = Enumerable.Range(0, half).Select(i => 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / config.HeadDim)).ToArray();
            var inverseFrequencies = (config.RopeScaling?.Apply(unscaled) ?? unscaled).Select(f => (float)f).ToArray();
            var frequencies = _graph.AddFloatInitializer("rotary_inv_freq", inverseFrequencies, half);

            var positionsFloat = _graph.Node("Cast", "positions_float", [positions], IntAttribute("to", (long)DataType.Float));
            var angles = _graph.Node("Mul", "rotary_angles_half",
                [_graph.Node("Unsqueeze", "positions_column", [positionsFloat, _graph.Int64Vector("last_axis", -1)]), frequencies]);
            var full = _graph.Node("Concat", "rotary_angles", [angles, angles], IntAttribute("axis", -1));
            var headAxes = _graph.Int64Vector("rotary_head_axes", 1, 2);
            return (_graph.Node("Unsqueeze", "rotary_cos", [_graph.Node("Cos", "rotary_cos_flat", [full]), headAxes]),
                    _graph.Node("Unsqueeze", "rotary_sin", [_graph.Node("Sin", "rotary_sin_flat", [full]), headAxes]));
        }

        /// <summary>Which keys each query may see: causal and not padding, shaped [batch, 1, 1, seq, seq].</summary>
        private string AttentionAllowed()
        {
            var length = _graph.Node("Gather", "sequence_length",
                [_graph.Node("Shape", "mask_shape", [OptimumCausalLm.AttentionMask]), _graph.Int64Constant("sequence_axis", [1])],
                IntAttribute("axis", 0));
            var steps = _graph.Node("Range", "steps",
                [_graph.Int64Constant("range_start", [0]), length, _graph.Int64Constant("range_step", [1])]);
            var queries = _graph.Node("Unsqueeze", "query_steps", [steps, _graph.Int64Vector("column_axis", 1)]);
            var keys = _graph.Node("Unsqueeze", "key_steps", [steps, _graph.Int64Vector("row_axis", 0)]);
            var causal = _graph.Node("LessOrEqual", "causal", [keys, queries]);
            var keyIsToken = _graph.Node("Unsqueeze", "key_is_token",
                [_graph.Node("Cast", "mask_bool", [OptimumCausalLm.AttentionMask], IntAttribute("to", (long)DataType.Bool)),
                 _graph.Int64Vector("mask_axes", 1, 2, 3)]);
            return _graph.Node("And", "attention_allowed", [causal, keyIsToken]);
        }

        /// <summary>x / sqrt(mean(x²) + eps) × weight, in float32 like Hugging Face's LlamaRMSNorm.</summary>
        private string RmsNorm(string input, string module)
        {
            var squares = _graph.Node("Mul", $"{module}.squares", [input, input]);
            var variance = _graph.Node("ReduceMean", $"{module}.variance", [squares], IntsAttribute("axes", -1), IntAttribute("keepdims", 1));
            var deviation = _graph.Node("Sqrt", $"{module}.deviation",
                [_graph.Node("Add", $"{module}.variance_eps", [variance, _graph.FloatScalar($"{module}.eps", (float)config.RmsNormEps)])]);
            var normalized = _graph.Node("Div", $"{module}.normalized", [input, deviation]);
            return _graph.Node("Mul", $"{module}.output", [normalized, Weight($"{module}.weight")]);
        }

        /// <summary>
        /// Grouped-query attention without materializing repeated keys: queries are laid out [batch, kv_heads,
        /// heads_per_kv, seq, head_dim] and keys/values [batch, kv_heads, 1, seq, head_dim], so MatMul's broadcasting
        /// pairs query head h with key/value head h / heads_per_kv, as Hugging Face's repeat_kv does.
        /// </summary>
        private string Attention(string input, string module, string cos, string sin, string allowed, string minimum)
        {
            var query = Heads(Linear(input, $"{module}.q_proj", config.HasQkvBias), $"{module}.q", _headsPerKeyValue);
            var key = Heads(Linear(input, $"{module}.k_proj", config.HasQkvBias), $"{module}.k", 1);
            var value = Heads(Linear(input, $"{module}.v_proj", config.HasQkvBias), $"{module}.v", 1);
            if (config.HasQkNorm)
            {
                query = RmsNorm(query, $"{module}.q_norm");
                key = RmsNorm(key, $"{module}.k_norm");
            }
            query = Rotate(query, $"{module}.q", cos, sin);
            key = Rotate(key, $"{module}.k", cos, sin);

            var keyTransposed = _graph.Node("Transpose", $"{module}.k_transposed", [key], IntsAttribute("perm", 0, 1, 2, 4, 3));
            var scores = _graph.Node("Mul", $"{module}.scores",
                [_graph.Node("MatMul", $"{module}.raw_scores", [query, keyTransposed]),
                 _graph.FloatScalar($"{module}.scaling", (float)(1.0 / Math.Sqrt(config.HeadDim)))]);
            var masked = _graph.Node("Where", $"{module}.masked_scores", [allowed, scores, minimum]);
            var weights = _graph.Node("Softmax", $"{module}.weights", [masked], IntAttribute("axis", -1));
            var context = _graph.Node("MatMul", $"{module}.context", [weights, value]);
            var merged = _graph.Node("Reshape", $"{module}.merged",
                [_graph.Node("Transpose", $"{module}.context_by_token", [context], IntsAttribute("perm", 0, 3, 1, 2, 4)),
                 _graph.Int64Vector($"{module}.merged_shape", 0, 0, (long)config.NumAttentionHeads * config.HeadDim)]);
            return Linear(merged, $"{module}.o_proj", config.HasOutputBias);
        }

        /// <summary>[batch, seq, kv_heads × group × head_dim] → [batch, kv_heads, group, seq, head_dim].</summary>
        private string Heads(string projection, string name, int group)
        {
            var split = _graph.Node("Reshape", $"{name}_split",
                [projection, _graph.Int64Vector($"{name}_split_shape", 0, 0, config.NumKeyValueHeads, group, config.HeadDim)]);
            return _graph.Node("Transpose", $"{name}_heads", [split], IntsAttribute("perm", 0, 2, 3, 1, 4));
        }

        /// <summary>x·cos + rotate_half(x)·sin, where rotate_half(x) = [−x₂, x₁] over the two halves of head_dim.</summary>
        private string Rotate(string input, string name, string cos, string sin)
        {
            var halves = _graph.NodeWithOutputs("Split", [$"{name}_first_half", $"{name}_second_half"], [input], IntAttribute("axis", -1));
            var rotated = _graph.Node("Concat", $"{name}_rotated_half",
                [_graph.Node("Neg", $"{name}_second_half_negated", [halves[1]]), halves[0]], IntAttribute("axis", -1));
            return _graph.Node("Add", $"{name}_rotary",
                [_graph.Node("Mul", $"{name}_cos", [input, cos]), _graph.Node("Mul", $"{name}_sin", [rotated, sin])]);
        }

        /// <summary>down(silu(gate(x)) × up(x)).</summary>
        private string Mlp(string input, string module)
        {
            var gate = Linear(input, $"{module}.gate_proj", hasBias: false);
            var activated = _graph.Node("Mul", $"{module}.gate_silu", [gate, _graph.Node("Sigmoid", $"{module}.gate_sigmoid", [gate])]);
            var product = _graph.Node("Mul", $"{module}.product", [activated, Linear(input, $"{module}.up_proj", hasBias: false)]);
            return Linear(product, $"{module}.down_proj", hasBias: false);
        }

        /// <summary>x Wᵀ (+ b), with Wᵀ stored pre-transposed so the runtime multiplies without a Transpose.</summary>
        private string Linear(string input, string module, bool hasBias)
        {
            var product = _graph.Node("MatMul", $"{module}.matmul", [input, TransposedWeight($"{module}.weight")]);
            return hasBias ? _graph.Node("Add", $"{module}.output", [product, Weight($"{module}.bias")]) : product;
        }

        private string Weight(string name) => AddWeight(name, name, transpose: false);

        private string TransposedWeight(string name) => AddWeight($"{name}.transposed", name, transpose: true);

        private string AddWeight(string onnxName, string stateDictName, bool transpose)
        {
            using var scope = torch.NewDisposeScope();
            // detach() makes a new handle inside the scope, so the caller's tensor is never disposed here.
            var data = stateDict[stateDictName].detach().cpu().to_type(torch.float32);
            if (transpose)
                data = data.t();
            data = data.contiguous();
            return _graph.AddFloatInitializer(onnxName, data.bytes, data.shape);
        }
    }
}
