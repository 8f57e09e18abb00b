using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Distill.Dashboard.Reports;

/// <summary>A file under the reports directory, by its path relative to it with '/' separators.</summary>
public sealed record ReportFile(string Path, long Length, DateTimeOffset LastModified)
{
    public bool IsImage => System.IO.Path.GetExtension(Path).ToLowerInvariant() is ".png" or ".svg" or ".jpg" or ".jpeg" or ".gif" or ".webp";

    public string Url => "/reports/files/" + string.Join('/', Path.Split('/').Select(Uri.EscapeDataString));
}

/// <summary>The evaluator's reports and plots, listed and served read-only: GET only, nothing outside the directory.</summary>
internal static class ReportFiles
{
    private const int MaxListed = 1000;

    private static readonly FileExtensionContentTypeProvider ContentTypes = CreateContentTypes();

    /// <summary>The files, newest first; none when no directory is configured or it does not exist yet.</summary>
    public static IReadOnlyList<ReportFile> List(string? directory)
    {
        if (directory is null || !Directory.Exists(directory)) return [];
        var root = new DirectoryInfo(directory);
        return root.EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
            .Where(file => ContentTypes.TryGetContentType(file.Name, out _))
            .OrderByDescending(file => file.LastWriteTimeUtc)
            .Take(MaxListed)
            .Select(file => new ReportFile(Path.GetRelativePath(root.FullName, file.FullName).Replace('\\', '/'), file.Length, file.LastWriteTimeUtc))
            .ToArray();
    }

    public static IResult Serve(string? directory, string path)
    {
        if (directory is null || !Directory.Exists(directory)) return Results.NotFound();
        // PhysicalFileProvider refuses paths that climb out of its root, absolute paths and hidden files.
        using var files = new PhysicalFileProvider(Path.GetFullPath(directory));
        var file = files.GetFileInfo(path);
        if (!file.Exists || file.IsDirectory || file.PhysicalPath is null || !ContentTypes.TryGetContentType(file.Name, out var contentType))
            return Results.NotFound();
        return Results.File(file.PhysicalPath, contentType, lastModified: file.LastModified);
    }

    private static FileExtensionContentTypeProvider CreateContentTypes()
    {
        var provider = new FileExtensionContentTypeProvider();
        // What the evaluator writes besides images and html: markdown reports, csv/json/jsonl tables, logs.
        provider.Mappings[".md"] = "text/markdown; charset=utf-8";
        provider.Mappings[".jsonl"] = "application/x-ndjson";
        provider.Mappings[".log"] = "text/plain; charset=utf-8";
        provider.Mappings[".csv"] = "text/csv; charset=utf-8";
        provider.Mappings[".txt"] = "text/plain; charset=utf-8";
        return provider;
    }
}
