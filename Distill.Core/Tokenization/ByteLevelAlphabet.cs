using System.Text;

namespace Distill.Core.Tokenization;

/// <summary>
/// GPT-2's byte-to-character table used by byte-level BPE: printable bytes map to themselves, the other 68 bytes to
/// U+0100 upwards in byte order (so a space is 'Ġ' and a newline 'Ċ').
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] CharByByte = BuildTable();
    private static readonly Dictionary<char, byte> ByteByChar =
        CharByByte.Select((c, b) => (c, b)).ToDictionary(pair => pair.c, pair => (byte)pair.b);

    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return string.Create(bytes.Length, bytes, static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                chars[i] = CharByByte[source[i]];
            }
        });
    }

    public static byte ToByte(char c) =>
        ByteByChar.TryGetValue(c, out var b) ? b : throw new InvalidDataException($"Character U+{(int)c:X4} is not in the byte-level alphabet.");

    private static char[] BuildTable()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }

        return table;
    }
}
