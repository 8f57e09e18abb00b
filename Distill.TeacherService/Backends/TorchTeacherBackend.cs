using Distill.Core.Contracts;
using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.Core.Tokenization;
using Distill.Core.Torch;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace Distill.TeacherService.Backends;

/// <summary>
/// A checkpoint directory loaded into a TorchSharp <see cref="LlamaForCausalLM"/> on <c>Teacher:Device</c>, scored by
/// <see cref="ModelScorer"/>: the same code that scores in the trainer and evaluator, so its log-probs are theirs.
/// </summary>
public sealed class TorchTeacherBackend(IOptions<TeacherOptions> options, ILogger<TorchTeacherBackend> logger) : ITeacherBackend
{
    public async Task<LoadedTeacher> LoadAsync(CancellationToken cancellationToken)
    {
        var teacher = options.Value;
        var directory = teacher.ModelPath!;
        var device = TorchDevice.Resolve(teacher.Device);
        var dtype = ModelCheckpoint.ParseTorchDtype(teacher.Torch.DType);
        var tokenizer = TokenizerLoader.Load(directory);
        // Both read the same files and neither needs the other, so the hash costs no wall time on a multi-core load.
        var fingerprinting = CheckpointFiles.FingerprintAsync(directory, CheckpointFiles.SafetensorsWeights(directory), cancellationToken);
        var loading = Task.Run(() => ModelCheckpoint.Load(directory, device, dtype), cancellationToken);
        try
        {
            await Task.WhenAll(fingerprinting, loading);
        }
        catch
        {
            if (loading.IsCompletedSuccessfully) loading.Result.Model.Dispose();
            throw;
        }

        var (config, model) = loading.Result;
        logger.LogInformation("Loaded {Directory} ({Layers} layers, hidden {Hidden}) on {Device} as {DType}",
            directory, config.NumHiddenLayers, config.HiddenSize, device.type, dtype);
        var info = LoadedTeacher.Describe(TeacherBackends.Torch, CheckpointFiles.ModelId(teacher), fingerprinting.Result,
            tokenizer.Fingerprint, config.VocabSize, config.MaxPositionEmbeddings, teacher.Limits.MaxTopKFor(config.VocabSize),
            Numerics(teacher.Torch.DType, device));
        return new LoadedTeacher(new ModelScorer(model), info, model);
    }

    /// <summary>
    /// What besides the weights decides the numbers: the dtype the forward pass runs in, and the device class (CPU and
    /// CUDA kernels reduce in different orders). The device's index is left out: two GPUs of one kind agree.
    /// </summary>
    internal static string Numerics(string dtype, torch.Device device) => $"dtype={dtype};device={device.type.ToString().ToLowerInvariant()}";
}
