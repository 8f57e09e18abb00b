namespace Distill.Core.Safetensors;

/// <summary>
/// The project's one way to write files and directories so that readers see either the old or the new content, never
/// a half-written one: everything goes to a temporary sibling first, then a rename puts it in place. Checkpoints,
/// run files (run.json, pointers), evaluations, reports and plots all use it.
/// </summary>
public static class AtomicWrite
{
    /// <summary>
    /// Writes through a stream, flushed to disk before the rename, so a crash leaves the old file or the new one.
    /// <paramref name="ownerOnly"/> creates it readable and writable by its owner alone (mode 600, on Unix) from the
    /// first byte: for files that hold a secret.
    /// </summary>
    public static void WriteFile(string path, Action<FileStream> write, bool ownerOnly = false) => WriteThrough(path, temporary =>
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 20 };
        if (ownerOnly && !OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(temporary, options);
        write(stream);
        stream.Flush(flushToDisk: true);
    });

    public static void WriteFile(string path, byte[] content, bool ownerOnly = false) => WriteFile(path, stream => stream.Write(content), ownerOnly);

    public static void WriteText(string path, string content, bool ownerOnly = false) => WriteFile(path, System.Text.Encoding.UTF8.GetBytes(content), ownerOnly);

    /// <summary>
    /// For writers that only take a path (a plot library's <c>SavePng</c>): <paramref name="write"/> writes a temporary
    /// sibling with the same extension, which is then renamed into place.
    /// </summary>
    public static void WriteThrough(string path, Action<string> write)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileNameWithoutExtension(fullPath)}.tmp-{Guid.NewGuid():N}{Path.GetExtension(fullPath)}");
        try
        {
            write(temporary);
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Fills a fresh temporary directory next to <paramref name="path"/>, then swaps it in. POSIX has no atomic
    /// exchange of two non-empty directories, so an existing target is first renamed aside: a crash in the instant
    /// between the two renames leaves the previous version under <c>.name.old-*</c> rather than a mix of both.
    /// </summary>
    public static void WriteDirectory(string path, Action<string> fill)
    {
        var fullPath = Path.GetFullPath(path.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var parent = Path.GetDirectoryName(fullPath)!;
        var name = Path.GetFileName(fullPath);
        Directory.CreateDirectory(parent);
        var temporary = Path.Combine(parent, $".{name}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            fill(temporary);
        }
        catch
        {
            Directory.Delete(temporary, recursive: true);
            throw;
        }

        if (!Directory.Exists(fullPath))
        {
            Directory.Move(temporary, fullPath);
            return;
        }

        var previous = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
        Directory.Move(fullPath, previous);
        try
        {
            Directory.Move(temporary, fullPath);
        }
        catch
        {
            Directory.Move(previous, fullPath);
            Directory.Delete(temporary, recursive: true);
            throw;
        }
        Directory.Delete(previous, recursive: true);
    }
}
