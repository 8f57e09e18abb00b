// MSBuild task (compiled by RoslynCodeTaskFactory) that makes TorchSharp's native library load on systems whose
// libstdc++ predates GLIBCXX_3.4.32 (Debian 12 ships GCC 12's). libLibTorchSharp.so needs that version for one
// symbol only, std::ios_base_library_init(). We mark the version reference weak, so the loader no longer refuses
// the library, and add a NEEDED on a tiny library that defines the symbol. A no-op where libstdc++ is new enough.
#nullable enable
// RoslynCodeTaskFactory compiles this against netstandard2.0: no spans, no File.Move(overwrite).
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PatchLibTorchSharp : Task
{
    const string MissingVersion = "GLIBCXX_3.4.32";
    const string ShimName = "libdistill_glibcxx_compat.so";

    [Required] public string OutputDirectory { get; set; } = "";
    [Required] public string ShimSource { get; set; } = "";
    [Required] public string IntermediateDirectory { get; set; } = "";

    public override bool Execute()
    {
        var targets = new[] { Path.Combine(OutputDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
                              Path.Combine(OutputDirectory, "libLibTorchSharp.so") }.Where(File.Exists).ToArray();
        if (targets.Length == 0) return true;

        var libstdcxx = FindSystemLibstdcxx();
        if (libstdcxx is null || ContainsAscii(File.ReadAllBytes(libstdcxx), MissingVersion))
        {
            Log.LogMessage(MessageImportance.Low, $"TorchSharp compat: {libstdcxx ?? "libstdc++"} has {MissingVersion} or was not found; nothing to do.");
            return true;
        }

        var shim = Path.Combine(IntermediateDirectory, ShimName);
        if (!File.Exists(shim) || File.GetLastWriteTimeUtc(shim) < File.GetLastWriteTimeUtc(ShimSource))
        {
            Directory.CreateDirectory(IntermediateDirectory);
            if (!Run("g++", $"-shared -fPIC -O2 -o \"{shim}\" \"{ShimSource}\"", out _)) return false;
        }

        foreach (var library in targets)
        {
            var directory = Path.GetDirectoryName(library)!;
            File.Copy(shim, Path.Combine(directory, ShimName), overwrite: true);

            var bytes = File.ReadAllBytes(library);
            bool markedWeak = MarkVersionWeak(bytes, MissingVersion);
            if (!Run("patchelf", $"--print-needed \"{library}\"", out var needed)) return false;
            bool hasShim = needed.Split('\n').Any(l => l.Trim() == ShimName);
            if (!markedWeak && hasShim) continue;

            // The output file may be a hard link into the NuGet package cache (CreateHardLinksForCopyLocalIfPossible):
            // the rename gives it an inode of its own before patchelf edits it in place, so the cache stays pristine.
            WriteAtomically(library, bytes);
            if (!hasShim && !Run("patchelf", $"--add-needed {ShimName} \"{library}\"", out _)) return false;
            Log.LogMessage(MessageImportance.High, $"TorchSharp compat: patched {library} for a libstdc++ without {MissingVersion}.");
        }
        return true;
    }

    static string? FindSystemLibstdcxx()
    {
        string[] candidates = { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                                "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" };
        return candidates.FirstOrDefault(File.Exists);
    }

    static bool ContainsAscii(byte[] haystack, string needle)
    {
        var pattern = Encoding.ASCII.GetBytes(needle + "\0");
        for (int i = 0; i <= haystack.Length - pattern.Length; i++)
        {
            int j = 0;
            while (j < pattern.Length && haystack[i + j] == pattern[j]) j++;
            if (j == pattern.Length) return true;
        }
        return false;
    }

    // ELF64 little-endian: walk SHT_GNU_verneed and set VER_FLG_WEAK on the vernaux entry named `version`.
    static bool MarkVersionWeak(byte[] elf, string version)
    {
        const uint ShtGnuVerneed = 0x6ffffffe;
        const ushort VerFlgWeak = 0x2;
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("libLibTorchSharp.so is not a little-endian ELF64 file.");

        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            long strtab = (long)BitConverter.ToUInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);

            long verneed = offset;
            while (true)
            {
                int count = BitConverter.ToUInt16(elf, (int)verneed + 2);
                long aux = verneed + BitConverter.ToUInt32(elf, (int)verneed + 8);
                for (int a = 0; a < count; a++)
                {
                    long name = strtab + BitConverter.ToUInt32(elf, (int)aux + 8);
                    int end = Array.IndexOf(elf, (byte)0, (int)name);
                    if (Encoding.ASCII.GetString(elf, (int)name, end - (int)name) == version)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlgWeak) != 0) return false;
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, (int)aux + 4);
                        return true;
                    }
                    uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(elf, (int)verneed + 12);
                if (next == 0) break;
                verneed += next;
            }
        }
        return false;
    }

    static void WriteAtomically(string path, byte[] bytes)
    {
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Replace(temporary, path, null); // rename(2): atomic on Linux
    }

    bool Run(string tool, string arguments, out string stdout)
    {
        stdout = "";
        try
        {
            using var process = Process.Start(new ProcessStartInfo(tool, arguments)
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            stdout = process.StandardOutput.ReadToEnd();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0) return true;
            Log.LogError($"TorchSharp compat: '{tool} {arguments}' failed ({process.ExitCode}): {stderr}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Log.LogError($"TorchSharp compat: this system's libstdc++ lacks {MissingVersion}, which TorchSharp needs, and " +
                         $"'{tool}' is not installed to patch around it. Install it (Debian: apt-get install -y patchelf g++).");
        }
        return false;
    }
}
