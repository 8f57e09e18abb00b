using Distill.Testing;
using System.Net.Http.Json;
using Distill.Core.Contracts;
using Distill.Onnx;

namespace Distill.TeacherService.Tests;

public sealed class OnnxBackendTests
{
    /// <summary>ONNX Runtime fuses and reorders float32 arithmetic differently from libtorch.</summary>
    private const double CrossRuntimeTolerance = 1e-3;

    [Fact]
    public async Task OnnxBackendExportsTheCheckpointAndScoresAsTheTorchBackendDoes()
    {
        using var checkpoint = new TeacherCheckpoint(seed: 61);
        var onnxFile = Path.Combine(checkpoint.Directory, OptimumCausalLm.ModelFileName);
        Assert.False(File.Exists(onnxFile));
        await using var torchHost = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory));
        await using var onnxHost = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory, backend: TeacherBackends.Onnx));
        await Task.WhenAll(torchHost.WaitUntilReadyAsync(), onnxHost.WaitUntilReadyAsync());
        Assert.True(File.Exists(onnxFile));
        using var torchHttp = torchHost.CreateHttpClient();
        using var onnxHttp = onnxHost.CreateHttpClient();

        foreach (var topK in new[] { 0, 5 })
        {
            var request = new ScoreRequest([
                ScoringTests.RandomSequence(checkpoint.VocabularySize),
                ScoringTests.RandomSequence(checkpoint.VocabularySize, 1, 30),
                ScoringTests.RandomSequence(checkpoint.VocabularySize, 12, 3),
            ], topK);
            var byTorch = await ScoringTests.ScoreAsync(torchHttp, request);
            var byOnnx = await ScoringTests.ScoreAsync(onnxHttp, request);
            ScoringTests.AssertSameScores(byTorch.Sequences.Select(s => (s.LogProbs, s.TopK?.ToArray())).ToArray(), byOnnx, topK, CrossRuntimeTolerance);
        }

        var torchInfo = await torchHttp.GetFromJsonAsync<TeacherInfo>("/v1/teacher");
        var onnxInfo = await onnxHttp.GetFromJsonAsync<TeacherInfo>("/v1/teacher");
        Assert.Equal("onnx", onnxInfo!.Backend);
        Assert.Equal((torchInfo!.ModelId, torchInfo.TokenizerFingerprint, torchInfo.VocabularySize, torchInfo.MaxContext),
            (onnxInfo.ModelId, onnxInfo.TokenizerFingerprint, onnxInfo.VocabularySize, onnxInfo.MaxContext));
        // Close is not equal: each runtime's scores are cached apart from the other's.
        Assert.NotEqual(torchInfo.Fingerprint, onnxInfo.Fingerprint);
    }
}
