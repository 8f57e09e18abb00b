using Distill.Core.Contracts;
using Distill.Core.Modeling;
using Distill.Core.Tokenization;
using Distill.Onnx;
using Microsoft.Extensions.Options;

namespace Distill.TeacherService.Backends;

/// <summary>
/// A checkpoint directory scored by ONNX Runtime through its <c>model.onnx</c>, which is exported from the
/// safetensors weights when the directory has none yet. The fingerprint covers <c>model.onnx</c>, the file that
/// actually scores, so an export from other weights can never share cached scores with this one.
/// </summary>
public sealed class OnnxTeacherBackend(IOptions<TeacherOptions> options, ILogger<OnnxTeacherBackend> logger) : ITeacherBackend
{
    public async Task<LoadedTeacher> LoadAsync(CancellationToken cancellationToken)
    {
        var teacher = options.Value;
        var directory = teacher.ModelPath!;
        var tokenizer = TokenizerLoader.Load(directory);
        if (!File.Exists(Path.Combine(directory, OptimumCausalLm.ModelFileName)))
        {
            logger.LogInformation("{Directory} has no {OnnxFile}; exporting it from the checkpoint's weights", directory, OptimumCausalLm.ModelFileName);
            var exported = await Task.Run(() => OnnxCausalLmExporter.ExportCheckpoint(directory), cancellationToken);
            logger.LogInformation("Exported {OnnxPath}", exported);
        }

        var cudaDevice = OnnxScorer.CudaDeviceFor(teacher.Device);
        var useCuda = cudaDevice is not null;
        var fingerprint = await CheckpointFiles.FingerprintAsync(directory,
            [ModelCheckpoint.ConfigFileName, OptimumCausalLm.ModelFileName], cancellationToken);
        var scorer = await Task.Run(() => OnnxScorer.FromCheckpoint(directory, new OnnxScorerOptions { UseCuda = useCuda, CudaDeviceId = cudaDevice ?? 0 }), cancellationToken);
        logger.LogInformation("Opened {Directory}/{OnnxFile} on {ExecutionProvider}", directory, OptimumCausalLm.ModelFileName, useCuda ? "CUDA" : "CPU");
        var info = LoadedTeacher.Describe(TeacherBackends.Onnx, CheckpointFiles.ModelId(teacher), fingerprint, tokenizer.Fingerprint,
            scorer.VocabularySize, scorer.MaxContext, teacher.Limits.MaxTopKFor(scorer.VocabularySize),
            // The exported graph computes in float32; the execution provider decides the kernels.
            numerics: $"dtype=float32;device={(useCuda ? "cuda" : "cpu")}");
        return new LoadedTeacher(scorer, info, scorer);
    }
}
