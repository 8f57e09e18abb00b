using System.Text.Json;
using TorchSharp;

namespace Distill.Core.Safetensors;

/// <summary>Where one tensor lies in a safetensors file; offsets are relative to the start of the data section.</summary>
public sealed record SafetensorsEntry(string Name, torch.ScalarType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (count, size) => count * size);
}

/// <summary>
/// An open safetensors file whose header has been read and validated; tensors are read one at a time, straight into
/// tensor memory, so a checkpoint is never held twice and no tensor goes through a (2 GB capped) managed array.
/// </summary>
public sealed class SafetensorsReader : IDisposable
{
    /// <summary>The reference implementation's cap; a larger header is a corrupt length prefix, not a real header.</summary>
    private const long MaxHeaderBytes = 100_000_000;
    internal const int CopyChunkBytes = 64 << 20;

    private readonly FileStream stream;
    private readonly long dataStart;

    public string FilePath { get; }
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsReader(string filePath, FileStream stream, long dataStart,
        IReadOnlyDictionary<string, SafetensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        FilePath = filePath;
        this.stream = stream;
        this.dataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
    }

    /// <exception cref="InvalidDataException">The header is malformed or disagrees with the file; the message names the file and tensor.</exception>
    public static SafetensorsReader Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            var (headerBytes, headerLength) = ReadHeaderBytes(path, stream);
            long dataStart = 8 + headerLength;
            var (entries, metadata) = ParseHeader(path, headerBytes, stream.Length - dataStart);
            return new SafetensorsReader(path, stream, dataStart, entries, metadata);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads one tensor in its stored dtype onto <paramref name="device"/> (CPU when null).</summary>
    public torch.Tensor Read(string name, torch.Device? device = null)
    {
        if (!Entries.TryGetValue(name, out var entry))
            throw new KeyNotFoundException($"{FilePath}: there is no tensor '{name}'.");

        using var scope = torch.NewDisposeScope();
        var tensor = torch.empty(entry.Shape, dtype: entry.DType, device: torch.CPU);
        if (entry.End > entry.Begin)
        {
            stream.Seek(dataStart + entry.Begin, SeekOrigin.Begin);
            using var flat = tensor.view(-1);
            long elementSize = SafetensorsDType.SizeOf(entry.DType);
            long elementsPerChunk = CopyChunkBytes / elementSize;
            for (long start = 0; start < entry.ElementCount; start += elementsPerChunk)
            {
                using var chunk = flat.narrow(0, start, Math.Min(elementsPerChunk, entry.ElementCount - start));
                try
                {
                    stream.ReadExactly(chunk.bytes);
                }
                catch (EndOfStreamException error)
                {
                    throw new InvalidDataException($"{FilePath}: tensor '{name}' ends past the end of the file (truncated?).", error);
                }
            }
        }
        var result = device is null || device.type == DeviceType.CPU ? tensor : tensor.to(device);
        return result.MoveToOuterDisposeScope();
    }

    public void Dispose() => stream.Dispose();

    private static (byte[] Header, long Length) ReadHeaderBytes(string path, FileStream stream)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors stores little-endian data; this reader needs a little-endian machine.");
        if (stream.Length < 8)
            throw new InvalidDataException($"{path}: {stream.Length} bytes is too short for a safetensors file (no 8-byte header length).");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BitConverter.ToUInt64(prefix);
        if (headerLength == 0 || headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"{path}: header length {headerLength} is not plausible (not a safetensors file?).");
        if ((long)headerLength > stream.Length - 8)
            throw new InvalidDataException($"{path}: header length {headerLength} is past the end of the {stream.Length}-byte file (truncated?).");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        return (header, (long)headerLength);
    }

    private static (Dictionary<string, SafetensorsEntry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: the header is not valid JSON: {error.Message}", error);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: the header must be a JSON object.");

            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == SafetensorsFile.MetadataKey)
                    ReadMetadata(path, property.Value, metadata);
                else if (!entries.TryAdd(property.Name, ParseEntry(path, property.Name, property.Value, dataLength)))
                    throw new InvalidDataException($"{path}: tensor '{property.Name}' appears twice in the header.");
            }
            CheckOffsetsTileTheData(path, entries.Values, dataLength);
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: '{SafetensorsFile.MetadataKey}' must be an object of strings.");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{path}: '{SafetensorsFile.MetadataKey}' entry '{item.Name}' must be a string.");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafetensorsEntry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: tensor '{name}' must be described by an object.");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{path}: tensor '{name}' has no string 'dtype'.");
        var dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDType.TryParse(dtypeName, out var dtype))
            throw new InvalidDataException($"{path}: tensor '{name}' has unsupported dtype '{dtypeName}'.");

        var shape = ReadNonNegativeIntegers(path, name, value, "shape");
        var offsets = ReadNonNegativeIntegers(path, name, value, "data_offsets");
        if (offsets.Length != 2 || offsets[1] < offsets[0])
            throw new InvalidDataException($"{path}: tensor '{name}' must have 'data_offsets' [begin, end] with begin <= end.");

        var entry = new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
        long expectedBytes;
        try
        {
            expectedBytes = checked(shape.Aggregate(1L, (count, size) => checked(count * size)) * SafetensorsDType.SizeOf(dtype));
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{path}: tensor '{name}' shape [{string.Join(", ", shape)}] is too large.");
        }
        if (entry.End - entry.Begin != expectedBytes)
            throw new InvalidDataException($"{path}: tensor '{name}' is {dtypeName} [{string.Join(", ", shape)}], " +
                $"which needs {expectedBytes} bytes, but its data_offsets span {entry.End - entry.Begin}.");
        if (entry.End > dataLength)
            throw new InvalidDataException($"{path}: tensor '{name}' ends at byte {entry.End} of the data section, " +
                $"but the file holds only {dataLength} bytes of data (truncated?).");
        return entry;
    }

    private static long[] ReadNonNegativeIntegers(string path, string name, JsonElement value, string field)
    {
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: tensor '{name}' has no array '{field}'.");
        var result = new long[array.GetArrayLength()];
        int index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
                throw new InvalidDataException($"{path}: tensor '{name}' field '{field}' must hold non-negative integers.");
            result[index++] = number;
        }
        return result;
    }

    /// <summary>Like the reference implementation: the tensors must cover the data section exactly, no overlap, no hole.</summary>
    private static void CheckOffsetsTileTheData(string path, IEnumerable<SafetensorsEntry> entries, long dataLength)
    {
        long position = 0;
        SafetensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(entry => entry.Begin).ThenBy(entry => entry.End))
        {
            if (entry.Begin < position)
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' data_offsets [{entry.Begin}, {entry.End}] " +
                    $"overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}].");
            if (entry.Begin > position)
                throw new InvalidDataException($"{path}: {entry.Begin - position} unaccounted bytes before tensor '{entry.Name}' " +
                    $"(data_offsets [{entry.Begin}, {entry.End}]).");
            position = entry.End;
            previous = entry;
        }
        if (position != dataLength)
            throw new InvalidDataException($"{path}: the tensors cover {position} bytes but the data section is {dataLength} bytes.");
    }
}
