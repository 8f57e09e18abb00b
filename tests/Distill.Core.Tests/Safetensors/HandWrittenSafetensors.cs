using System.Text;

namespace Distill.Core.Tests.Safetensors;

/// <summary>
/// A safetensors writer independent of <c>SafetensorsFile</c>: the header is spelled out as a string and the data
/// comes from raw little-endian bytes, so tests check our reader against the format, not against our writer.
/// </summary>
internal static class HandWrittenSafetensors
{
    public sealed record Entry(string Name, string DType, long[] Shape, byte[] Data);

    public static Entry Float32(string name, long[] shape, float[] values) =>
        new(name, "F32", shape, values.SelectMany(BitConverter.GetBytes).ToArray());

    /// <summary>bfloat16 is the upper half of a float32; the values given must be exact in bfloat16.</summary>
    public static Entry BFloat16(string name, long[] shape, float[] values) =>
        new(name, "BF16", shape, values.SelectMany(value => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(value) >> 16))).ToArray());

    public static void Write(string path, IReadOnlyList<Entry> entries, string? headerOverride = null)
    {
        long offset = 0;
        var fields = new List<string> { "\"__metadata__\":{\"format\":\"pt\"}" };
        foreach (var entry in entries)
        {
            fields.Add($"\"{entry.Name}\":{{\"dtype\":\"{entry.DType}\",\"shape\":[{string.Join(",", entry.Shape)}]," +
                $"\"data_offsets\":[{offset},{offset + entry.Data.Length}]}}");
            offset += entry.Data.Length;
        }
        var header = Encoding.UTF8.GetBytes(headerOverride ?? "{" + string.Join(",", fields) + "}");
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)header.Length));
        stream.Write(header);
        foreach (var entry in entries)
            stream.Write(entry.Data);
    }
}
