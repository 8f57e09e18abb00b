using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Distill.Core.Runs;

namespace Distill.StudentTrainer.Training;

/// <summary>
/// <c>plan</c>: what the AppHost asks before it starts anything. Are these training flags valid (the trainer's own
/// validation, so a typo in <c>--objective</c> is refused before Redis or the teacher start), and which run directory
/// under <c>--runs-dir</c> do they train in? A run resumes only with the settings it was started with, so without
/// <c>--run-name</c> the plan continues <c>default</c> when its <c>run.json</c> matches (see
/// <see cref="RunResumption.Differences"/>) and otherwise a directory named after the settings
/// (<c>lagrangian-d3-s1-1a2b3c4d</c>). Prints one JSON object (<see cref="RunPlan"/>) on standard output; exit code 2
/// with the problems, each naming its flag, on standard error.
/// </summary>
public static class RunPlanCommand
{
    public const string DefaultRunName = "default";

    /// <summary>Runs the plan over the configuration the flags gave (<see cref="TrainerCommandLine.PlanFlags"/>).</summary>
    public static int Run(IReadOnlyDictionary<string, string?> flags)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(flags).Build();
        var options = new TrainerOptions();
        options.Bind(configuration.GetSection(TrainerOptions.SectionName));
        var runsDirectory = configuration["Plan:RunsDirectory"]!;
        var runName = configuration["Plan:RunName"];
        var studentPending = configuration.GetValue<bool>("Plan:StudentPending");

        var problems = new List<string>();
        if (runName is not null && (runName.Length == 0 || runName != Path.GetFileName(runName) || runName is "." or ".."))
            problems.Add($"--run-name must be a plain directory name (got '{runName}').");
        // The bootstrap trains the default student after the plan: its directory need not exist yet.
        var student = options.Student;
        if (studentPending && student is not null && !Directory.Exists(student)) options.Student = Path.GetTempPath();
        options.RunDirectory = runsDirectory;
        problems.AddRange(options.Validate());
        options.Student = student;
        if (problems.Count > 0)
        {
            foreach (var problem in problems) Console.Error.WriteLine($"error: {problem}");
            return Distill.CommandLine.ExitCodes.Usage;
        }
        try
        {
            Console.WriteLine(JsonSerializer.Serialize(Choose(Path.GetFullPath(runsDirectory), runName, options), JsonSerializerOptions.Web));
            return 0;
        }
        catch (Exception error) when (error is InvalidOperationException or IOException or JsonException)
        {
            Console.Error.WriteLine($"error: {error.Message}");
            return Distill.CommandLine.ExitCodes.Usage;
        }
    }

    public static RunPlan Choose(string runsDirectory, string? runName, TrainerOptions options)
    {
        if (runName is not null)
        {
            var named = Path.Combine(runsDirectory, runName);
            return new(named, File.Exists(Path.Combine(named, "run.json")) ? "continuing the run named by --run-name" : "a new run named by --run-name");
        }

        var defaultDirectory = Path.Combine(runsDirectory, DefaultRunName);
        var differences = DifferencesFrom(defaultDirectory, options);
        if (differences is null) return new(defaultDirectory, "a new run");
        if (differences.Count == 0) return new(defaultDirectory, "continuing the run there (same settings)");

        var because = $"{defaultDirectory} was started with other settings ({string.Join("; ", differences)})";
        var derived = Path.Combine(runsDirectory, DerivedName(options));
        return DifferencesFrom(derived, options) switch
        {
            null => new(derived, $"a new run, since {because}"),
            { Count: 0 } => new(derived, $"continuing the run of these settings, since {because}"),
            _ => throw new InvalidOperationException($"{derived} holds a run of other settings too; name this run with --run-name."),
        };
    }

    /// <summary><c>{objective}-d{threshold}-s{seed}-{hash}</c>, the hash over the student and the dataset, so two settings never share a name.</summary>
    public static string DerivedName(TrainerOptions options)
    {
        var threshold = options.ObjectiveOptions.Threshold.ToString("R", CultureInfo.InvariantCulture);
        var dataset = options.Dataset == "generated" ? options.Dataset : Path.GetFullPath(options.Dataset);
        var identity = string.Join('\n', Path.GetFullPath(options.Student!), dataset);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..8];
        return $"{options.Objective.ToLowerInvariant()}-d{threshold}-s{options.Seed.ToString(CultureInfo.InvariantCulture)}-{hash}";
    }

    private static IReadOnlyList<string>? DifferencesFrom(string runDirectory, TrainerOptions options)
    {
        var run = new RunDirectory(runDirectory);
        return File.Exists(run.ManifestPath)
            ? RunResumption.Differences(run.ReadManifest(), options, options.Objective.ToLowerInvariant())
            : null;
    }
}

/// <summary>The answer of <see cref="RunPlanCommand"/>: the run directory to train in, and why that one.</summary>
public sealed record RunPlan(string RunDirectory, string Reason);
