using Distill.Core.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Core.Modeling;

/// <summary>
/// A Hugging Face checkpoint directory: <c>config.json</c> plus <c>model.safetensors</c> or shards listed by
/// <c>model.safetensors.index.json</c>; tokenizer and other files travel alongside.
/// </summary>
public static class ModelCheckpoint
{
    public const string ConfigFileName = "config.json";
    public const string WeightsFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Loads the config and the weights, converting floating-point weights to <paramref name="dtype"/>.</summary>
    /// <param name="dtype">Default: float32 on CPU; elsewhere the config's <c>torch_dtype</c> (float32 when absent).</param>
    /// <exception cref="ModelConfigException">config.json is malformed or invalid.</exception>
    /// <exception cref="InvalidDataException">A tensor is missing, unexpected or of the wrong shape; names the file and tensor.</exception>
    public static (LlamaConfig Config, LlamaForCausalLM Model) Load(string directory, Device device, ScalarType? dtype = null)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"checkpoint directory '{directory}' does not exist.");
        var config = LlamaConfig.Load(Path.Combine(directory, ConfigFileName));
        var targetType = dtype ?? (device.type == DeviceType.CPU ? ScalarType.Float32 : ParseTorchDtype(config.TorchDtype));
        if (!IsFloatingPoint(targetType))
            throw new ArgumentException($"dtype {targetType} is not a floating-point type.", nameof(dtype));

        var readers = OpenWeightFiles(directory);
        var model = new LlamaForCausalLM(config, device, targetType);
        try
        {
            CopyWeights(model, readers, directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            foreach (var reader in readers.Values.Distinct())
                reader.Dispose();
        }
        model.eval();
        return (config, model);
    }

    /// <summary>
    /// Writes <c>config.json</c>, the weights and <paramref name="extraFiles"/> (tokenizer files...) into a temporary
    /// directory next to <paramref name="directory"/>, then renames it into place, replacing any previous checkpoint.
    /// </summary>
    /// <param name="config">Written as config.json; must describe <paramref name="model"/>'s architecture (ids and dtype may differ).</param>
    /// <param name="dtype">Floating-point type to store the weights in; default: as they are in memory.</param>
    /// <param name="maxShardBytes">When the weights exceed it, they are split into Hugging Face style shards plus an index.</param>
    public static void Save(string directory, LlamaForCausalLM model, LlamaConfig config,
        IReadOnlyDictionary<string, byte[]>? extraFiles = null, ScalarType? dtype = null, long? maxShardBytes = null)
    {
        CheckSameArchitecture(model.Config, config);
        if (dtype is { } requested && !IsFloatingPoint(requested))
            throw new ArgumentException($"dtype {requested} is not a floating-point type.", nameof(dtype));
        foreach (var name in extraFiles?.Keys ?? [])
        {
            if (name != Path.GetFileName(name) || name is "" or "." or ".." || name == ConfigFileName || name.EndsWith(".safetensors", StringComparison.Ordinal) || name == IndexFileName)
                throw new ArgumentException($"extra file '{name}' must be a plain file name other than the config and weight files.", nameof(extraFiles));
        }

        using var scope = NewDisposeScope();
        var storedType = dtype ?? model.DType;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in model.state_dict())
            tensors[name] = tensor.detach().to(storedType);
        var savedConfig = config with { TorchDtype = TorchDtypeName(storedType) };
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };

        AtomicWrite.WriteDirectory(directory, temporary =>
        {
            File.WriteAllBytes(Path.Combine(temporary, ConfigFileName), savedConfig.ToJsonBytes());
            SafetensorsFile.SaveSharded(temporary, tensors, maxShardBytes ?? long.MaxValue, metadata);
            foreach (var (name, content) in extraFiles ?? new Dictionary<string, byte[]>())
                File.WriteAllBytes(Path.Combine(temporary, name), content);
        });
    }

    /// <summary>
    /// Where a checkpoint's weights are, the one place that decides it: the shards its <c>model.safetensors.index.json</c>
    /// lists (with the index), or the single <c>model.safetensors</c>. File names relative to <paramref name="directory"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">Neither file exists; names the directory.</exception>
    public static (SafetensorsIndex? Index, IReadOnlyList<string> WeightFileNames) WeightFiles(string directory)
    {
        var indexPath = Path.Combine(directory, IndexFileName);
        if (File.Exists(indexPath))
        {
            var index = SafetensorsIndex.Load(indexPath);
            return (index, index.ShardFileNames);
        }
        if (File.Exists(Path.Combine(directory, WeightsFileName)))
            return (null, [WeightsFileName]);
        throw new FileNotFoundException($"checkpoint '{directory}' has neither {WeightsFileName} nor {IndexFileName}.");
    }

    /// <summary>Opens the single weight file or every shard; maps each stored tensor name to the reader that holds it.</summary>
    private static Dictionary<string, SafetensorsReader> OpenWeightFiles(string directory)
    {
        var indexPath = Path.Combine(directory, IndexFileName);
        var byTensor = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
        var opened = new List<SafetensorsReader>();
        try
        {
            var (index, files) = WeightFiles(directory);
            foreach (var file in files)
            {
                var reader = SafetensorsReader.Open(Path.Combine(directory, file));
                opened.Add(reader);
                index?.CheckShard(indexPath, file, reader);
                foreach (var name in reader.Entries.Keys)
                    byTensor[name] = reader;
            }
        }
        catch
        {
            foreach (var reader in opened)
                reader.Dispose();
            throw;
        }
        return byTensor;
    }

    private static void CopyWeights(LlamaForCausalLM model, IReadOnlyDictionary<string, SafetensorsReader> readers, string directory)
    {
        var parameters = model.state_dict();
        foreach (var (name, reader) in readers)
        {
            if (!parameters.ContainsKey(name) && !IsIgnoredOnLoad(name, model.Config))
                throw new InvalidDataException($"{reader.FilePath}: unexpected tensor '{name}': a {model.Config.ModelType} model " +
                    "with this config.json has no such parameter.");
        }

        var weightFiles = string.Join(", ", readers.Values.Select(reader => Path.GetFileName(reader.FilePath)).Distinct());
        using var noGrad = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            if (!readers.TryGetValue(name, out var reader))
                throw new InvalidDataException($"{directory}: tensor '{name}' is missing (looked in {(weightFiles.Length > 0 ? weightFiles : "no tensors at all")}).");
            var entry = reader.Entries[name];
            if (!entry.Shape.SequenceEqual(parameter.shape))
                throw new InvalidDataException($"{reader.FilePath}: tensor '{name}' has shape [{string.Join(", ", entry.Shape)}] " +
                    $"but config.json implies [{string.Join(", ", parameter.shape)}].");
            if (!IsFloatingPoint(entry.DType))
                throw new InvalidDataException($"{reader.FilePath}: tensor '{name}' has dtype {SafetensorsDType.NameOf(entry.DType)}; " +
                    "weights must be floating-point.");
            using var stored = reader.Read(name);
            parameter.copy_(stored);
        }
    }

    /// <summary>
    /// Tensors Hugging Face also skips: a tied model's redundant <c>lm_head.weight</c>, and the rotary
    /// <c>inv_freq</c> buffers older Llama checkpoints carry (recomputed from the config here). Public so that every
    /// reader of checkpoints (the ONNX exporter too) skips the same ones.
    /// </summary>
    public static bool IsIgnoredOnLoad(string name, LlamaConfig config) =>
        (config.TieWordEmbeddings && name == "lm_head.weight") || name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);

    private static void CheckSameArchitecture(LlamaConfig modelConfig, LlamaConfig config)
    {
        var comparable = config with
        {
            BosTokenId = modelConfig.BosTokenId,
            EosTokenIds = modelConfig.EosTokenIds,
            PadTokenId = modelConfig.PadTokenId,
            TorchDtype = modelConfig.TorchDtype,
            InitializerRange = modelConfig.InitializerRange,
        };
        if (comparable != modelConfig)
            throw new ArgumentException("the config to save describes a different architecture from the model's " +
                $"(model: {modelConfig.ModelType} {modelConfig.NumHiddenLayers}x{modelConfig.HiddenSize}, " +
                $"config: {config.ModelType} {config.NumHiddenLayers}x{config.HiddenSize}).", nameof(config));
    }

    private static bool IsFloatingPoint(ScalarType type) =>
        type is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    /// <summary>The compute dtypes a model can be loaded in, by their Hugging Face <c>torch_dtype</c> names.</summary>
    public static readonly IReadOnlyList<string> DTypeNames = ["float32", "bfloat16", "float16"];

    /// <summary>A <c>torch_dtype</c> name as a scalar type: bfloat16, float16, else float32 (the one parse, for configs and options alike).</summary>
    public static ScalarType ParseTorchDtype(string? name) => name switch
    {
        "bfloat16" => ScalarType.BFloat16,
        "float16" => ScalarType.Float16,
        _ => ScalarType.Float32,
    };

    private static string TorchDtypeName(ScalarType type) => type switch
    {
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float32 => "float32",
        _ => throw new ArgumentException($"weights cannot be saved as {type}; use float32, float16 or bfloat16."),
    };
}
