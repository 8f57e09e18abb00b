using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Distill.AppHost;

/// <summary>
/// Which run directory under <c>runs/</c> the trainer gets. A run resumes only with the settings it was started with
/// (the trainer refuses anything else), so without <c>--run-name</c> the AppHost continues <c>runs/default</c> when
/// its <c>run.json</c> matches these settings and otherwise starts, or continues, one named after them
/// (<c>lagrangian-d3-s1</c>); running other settings on a finished default run used to print "steps 41..40", "Done"
/// and the old run's reports.
/// </summary>
internal static class RunSelection
{
    public const string DefaultName = "default";

    // The trainer's --seed, which the AppHost leaves at the trainer's default.
    private const int Seed = 1;

    public sealed record Choice(string Directory, string Reason);

    public static Choice Choose(string runsDirectory, AppHostOptions options, string studentPath)
    {
        if (options.RunName is { } named)
        {
            var directory = Path.Combine(runsDirectory, named);
            return new(directory, File.Exists(Path.Combine(directory, "run.json")) ? "continuing the run named by --run-name" : "a new run named by --run-name");
        }

        var defaultDirectory = Path.Combine(runsDirectory, DefaultName);
        var differences = Differences(defaultDirectory, options, studentPath);
        if (differences is null) return new(defaultDirectory, "a new run");
        if (differences.Count == 0) return new(defaultDirectory, "continuing the run there (same settings)");

        var because = $"{defaultDirectory} was started with other settings ({string.Join("; ", differences)})";
        var derived = Path.Combine(runsDirectory, DerivedName(options, studentPath));
        return Differences(derived, options, studentPath) switch
        {
            null => new(derived, $"a new run, since {because}"),
            { Count: 0 } => new(derived, $"continuing the run of these settings, since {because}"),
            _ => throw new InvalidOperationException(
                $"{derived} holds a run of other settings too; name this run with --run-name."),
        };
    }

    /// <summary>
    /// <c>{objective}-d{threshold}-s{seed}</c>, plus a hash of the student, dataset and steps when any is not the
    /// default, so that two settings never share a name.
    /// </summary>
    public static string DerivedName(AppHostOptions options, string studentPath)
    {
        var name = $"{options.Objective}-d{options.Threshold.ToString("R", CultureInfo.InvariantCulture)}-s{Seed}";
        bool defaults = options.Student is null && options.Dataset == "generated";
        if (defaults) return name;
        var identity = string.Join('\n', studentPath, DatasetIdentity(options.Dataset));
        return $"{name}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..8]}";
    }

    /// <summary>Null when <paramref name="runDirectory"/> holds no run; else the settings (as flags) that differ from its <c>run.json</c>.</summary>
    public static IReadOnlyList<string>? Differences(string runDirectory, AppHostOptions options, string studentPath)
    {
        var manifestPath = Path.Combine(runDirectory, "run.json");
        if (!File.Exists(manifestPath)) return null;
        using var manifest = JsonDocument.Parse(File.ReadAllText(manifestPath));
        var run = manifest.RootElement;
        var differences = new List<string>();
        void Compare(string flag, string recorded, string given)
        {
            if (recorded != given) differences.Add($"{flag} {given}, the run has {recorded}");
        }

        Compare("--objective", run.GetProperty("objective").GetString()!, options.Objective.ToLowerInvariant());
        Compare("--threshold", run.GetProperty("threshold").GetDouble().ToString("R", CultureInfo.InvariantCulture),
            options.Threshold.ToString("R", CultureInfo.InvariantCulture));
        Compare("--student", run.GetProperty("studentPath").GetString()!, studentPath);
        Compare("--dataset", DatasetIdentity(run.GetProperty("dataset").GetString()!), DatasetIdentity(options.Dataset));
        Compare("seed", run.GetProperty("seed").GetInt32().ToString(CultureInfo.InvariantCulture), Seed.ToString(CultureInfo.InvariantCulture));
        int totalSteps = run.GetProperty("totalSteps").GetInt32();
        if (options.Steps < totalSteps) differences.Add($"--steps {options.Steps}, the run has {totalSteps} (a run's steps may only grow)");
        return differences;
    }

    private static string DatasetIdentity(string dataset) => dataset == "generated" ? dataset : Path.GetFullPath(dataset);
}
