using System.Runtime.InteropServices;
using Distill.Onnx.Protos;
using Google.Protobuf;

namespace Distill.Onnx;

/// <summary>
/// Appends nodes and initializers to an ONNX graph in topological order, naming intermediate values so that each
/// call reads as one line of the forward pass.
/// </summary>
internal sealed class OnnxGraphBuilder(string graphName)
{
    private readonly HashSet<string> _names = [];
    private int _nodeCount;

    public GraphProto Graph { get; } = new() { Name = graphName };

    public void AddInput(string name, TensorProto.Types.DataType type, params TensorShapeProto.Types.Dimension[] dims)
    {
        Claim(name);
        Graph.Input.Add(ValueInfo(name, type, dims));
    }

    /// <summary>Declares a graph output; the node that computes it names it.</summary>
    public void AddOutput(string name, TensorProto.Types.DataType type, params TensorShapeProto.Types.Dimension[] dims) =>
        Graph.Output.Add(ValueInfo(name, type, dims));

    public static TensorShapeProto.Types.Dimension SymbolicDim(string name) => new() { DimParam = name };

    public static TensorShapeProto.Types.Dimension FixedDim(long size) => new() { DimValue = size };

    /// <summary>
    /// An input that callers may leave out: a graph input backed by an initializer of the same name is, from IR
    /// version 4, a default the caller can override (ONNX Runtime lists it among the overridable initializers).
    /// </summary>
    public void AddOptionalInput(string name, TensorProto.Types.DataType type, TensorProto defaultValue,
        params TensorShapeProto.Types.Dimension[] dims)
    {
        AddInput(name, type, dims);
        defaultValue.Name = name;
        AddInitializer(defaultValue, claimName: false);
    }

    /// <summary>A float32 initializer from little-endian bytes in row-major order.</summary>
    public string AddFloatInitializer(string name, ReadOnlySpan<byte> data, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(data) };
        tensor.Dims.AddRange(dims);
        AddInitializer(tensor);
        return name;
    }

    public string AddFloatInitializer(string name, ReadOnlySpan<float> data, params long[] dims) =>
        AddFloatInitializer(name, MemoryMarshal.AsBytes(data), dims);

    /// <summary>An int64 constant; a scalar when <paramref name="dims"/> is empty.</summary>
    public string Int64Constant(string name, long[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        AddInitializer(tensor);
        return name;
    }

    public string Int64Vector(string name, params long[] values) => Int64Constant(name, values, values.Length);

    public string FloatScalar(string name, float value) => AddFloatInitializer(name, [value]);

    /// <summary>Appends a node with one output, named <paramref name="output"/>.</summary>
    public string Node(string opType, string output, string[] inputs, params AttributeProto[] attributes) =>
        NodeWithOutputs(opType, [output], inputs, attributes)[0];

    /// <summary>Appends a node with several outputs (Split), named in order.</summary>
    public string[] NodeWithOutputs(string opType, string[] outputs, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_nodeCount++}" };
        node.Input.AddRange(inputs);
        foreach (var output in outputs)
        {
            Claim(output);
            node.Output.Add(output);
        }
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return outputs;
    }

    public static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto IntsAttribute(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private void AddInitializer(TensorProto tensor, bool claimName = true)
    {
        if (claimName)
            Claim(tensor.Name);
        Graph.Initializer.Add(tensor);
    }

    /// <summary>ONNX values are single-assignment; a reused name would silently rewire the graph.</summary>
    private void Claim(string name)
    {
        if (!_names.Add(name))
            throw new InvalidOperationException($"ONNX value '{name}' is defined twice.");
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims);
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
