using System.Text;
using Distill.Core.Safetensors;
using TorchSharp;

namespace Distill.Core.Tests.Safetensors;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly TemporaryDirectory temporary = new();
    private string directory => temporary.Path;

    public void Dispose() => temporary.Dispose();

    [Theory]
    [InlineData(torch.ScalarType.Float32)]
    [InlineData(torch.ScalarType.Float16)]
    [InlineData(torch.ScalarType.BFloat16)]
    [InlineData(torch.ScalarType.Int64)]
    [InlineData(torch.ScalarType.Int32)]
    public void RoundTripKeepsDtypeShapeAndValues(torch.ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        var original = new Dictionary<string, torch.Tensor>
        {
            ["a.weight"] = (torch.randn(3, 5) * 100).to(dtype),
            ["b"] = (torch.randn(7) * 100).to(dtype),
            ["scalar"] = torch.tensor(3).to(dtype),
            ["empty"] = torch.zeros(0, 4).to(dtype),
        };
        var path = Path.Combine(directory, "round.safetensors");
        SafetensorsFile.Save(path, original, new Dictionary<string, string> { ["format"] = "pt" });

        var loaded = StoredTensors.Load(path);
        Assert.Equal(original.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, tensor) in original)
        {
            Assert.Equal(dtype, loaded[name].dtype);
            Assert.Equal(tensor.shape, loaded[name].shape);
            Assert.True(torch.equal(tensor, loaded[name]).all().item<bool>(), name);
        }
        using var reader = SafetensorsReader.Open(path);
        Assert.Equal("pt", reader.Metadata["format"]);
        Assert.Empty(Directory.GetFiles(directory, ".*"));
    }

    [Fact]
    public void HeaderIsPaddedSoTheDataStartsOnAnEightByteBoundary()
    {
        using var scope = torch.NewDisposeScope();
        var path = Path.Combine(directory, "aligned.safetensors");
        SafetensorsFile.Save(path, new Dictionary<string, torch.Tensor> { ["x"] = torch.ones(3, dtype: torch.ScalarType.Float16) });

        var bytes = File.ReadAllBytes(path);
        var headerLength = BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0UL, headerLength % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.StartsWith("{\"x\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}}", header);
        Assert.Equal(8 + (long)headerLength + 6, bytes.Length);
    }

    [Fact]
    public void ReadsAFileWrittenToTheSpecificationByHand()
    {
        var path = Path.Combine(directory, "hand.safetensors");
        HandWrittenSafetensors.Write(path,
        [
            HandWrittenSafetensors.Float32("f", [2, 2], [1, 2, 3, 4]),
            HandWrittenSafetensors.BFloat16("h", [3], [1.5f, -2f, 0.25f]),
        ]);

        var tensors = StoredTensors.Load(path);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, tensors["f"].data<float>().ToArray());
        Assert.Equal(new long[] { 2, 2 }, tensors["f"].shape);
        Assert.Equal(torch.ScalarType.BFloat16, tensors["h"].dtype);
        Assert.Equal(new[] { 1.5f, -2f, 0.25f }, tensors["h"].to(torch.ScalarType.Float32).data<float>().ToArray());
    }

    [Fact]
    public void TruncatedFileIsReportedWithFileAndTensor()
    {
        var path = Path.Combine(directory, "truncated.safetensors");
        HandWrittenSafetensors.Write(path, [HandWrittenSafetensors.Float32("layer.weight", [4], [1, 2, 3, 4])]);
        using (var stream = new FileStream(path, FileMode.Open))
            stream.SetLength(stream.Length - 4);

        var error = Assert.Throws<InvalidDataException>(() => StoredTensors.Load(path));
        Assert.Contains("truncated.safetensors", error.Message);
        Assert.Contains("layer.weight", error.Message);
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", "overlap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,16]}}", "needs 12 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[8,16]}}", "unsupported dtype 'Q4'")]
    public void InvalidHeaderIsReportedWithFileAndTensor(string header, string problem)
    {
        var path = Path.Combine(directory, "bad.safetensors");
        HandWrittenSafetensors.Write(path,
            [HandWrittenSafetensors.Float32("a", [2], [1, 2]), HandWrittenSafetensors.Float32("b", [2], [3, 4])], header);

        var error = Assert.Throws<InvalidDataException>(() => StoredTensors.Load(path));
        Assert.Contains("bad.safetensors", error.Message);
        Assert.Contains("'b'", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void NotJsonHeaderIsReportedWithTheFile()
    {
        var path = Path.Combine(directory, "garbage.safetensors");
        HandWrittenSafetensors.Write(path, [], "{not json");

        var error = Assert.Throws<InvalidDataException>(() => StoredTensors.Load(path));
        Assert.Contains("garbage.safetensors", error.Message);
    }

    [Fact]
    public void ShardedSaveWritesHuggingFaceNamesAndLoadsBack()
    {
        using var scope = torch.NewDisposeScope();
        var original = new Dictionary<string, torch.Tensor>
        {
            ["first"] = torch.arange(10, dtype: torch.ScalarType.Float32),
            ["second"] = torch.arange(10, dtype: torch.ScalarType.BFloat16),
            ["third"] = torch.arange(6, dtype: torch.ScalarType.Float32),
        };

        var written = SafetensorsFile.SaveSharded(directory, original, maxShardBytes: 60);

        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"], written);
        var index = SafetensorsIndex.Load(Path.Combine(directory, "model.safetensors.index.json"));
        Assert.Equal("model-00001-of-00002.safetensors", index.WeightMap["second"]);
        Assert.Equal("model-00002-of-00002.safetensors", index.WeightMap["third"]);
        Assert.Equal(40 + 20 + 24, index.TotalSize);

        var loaded = StoredTensors.LoadSharded(Path.Combine(directory, "model.safetensors.index.json"));
        foreach (var (name, tensor) in original)
            Assert.True(torch.equal(tensor, loaded[name]).all().item<bool>(), name);
    }

    [Fact]
    public void ShardedLoadReportsATensorTheIndexPromisesButTheShardLacks()
    {
        using var scope = torch.NewDisposeScope();
        SafetensorsFile.SaveSharded(directory, new Dictionary<string, torch.Tensor>
        {
            ["first"] = torch.ones(4),
            ["second"] = torch.ones(4),
        }, maxShardBytes: 16);
        var indexPath = Path.Combine(directory, "model.safetensors.index.json");
        File.WriteAllText(indexPath, File.ReadAllText(indexPath).Replace("\"second\"", "\"ghost\""));

        var error = Assert.Throws<InvalidDataException>(() => StoredTensors.LoadSharded(indexPath));
        Assert.Contains("model-0000", error.Message);
        Assert.Contains("ghost", error.Message);
    }
}
