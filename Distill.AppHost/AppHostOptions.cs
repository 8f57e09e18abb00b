using Distill.Core.Contracts;

namespace Distill.AppHost;

/// <summary>
/// What the user chooses when starting the platform: the <c>Distill</c> section of the AppHost's configuration
/// (appsettings.json, <c>Distill__*</c> environment variables), overridden by flags (<c>--teacher-backend onnx</c> sets
/// <c>Distill:TeacherBackend</c>; see <see cref="AppHostFlags"/>). The training flags are the trainer's to validate.
/// </summary>
public sealed class AppHostOptions
{
    public const string SectionName = "Distill";

    /// <summary>Where default models, runs, logs and Redis data live.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary><c>torch</c> (a checkpoint directory), <c>onnx</c> (exported next to the checkpoint) or <c>openai</c> (a URL).</summary>
    public string TeacherBackend { get; set; } = TeacherBackends.Torch;

    /// <summary>The teacher's checkpoint directory (torch, onnx); the default teacher when empty.</summary>
    public string? TeacherModel { get; set; }

    /// <summary>An OpenAI-compatible server (vLLM) to score with, for the openai backend.</summary>
    public string? TeacherUrl { get; set; }

    /// <summary>The student checkpoint to start from; the default student when empty.</summary>
    public string? Student { get; set; }

    public string Objective { get; set; } = "cmdp";

    /// <summary>
    /// The KL budget d of the run: about the 70th percentile of the default student's sequence KL to the default
    /// teacher (exact, at τ = 0.7, on the validation split: 9.1; docs/default-models.md), just under the quarter of its
    /// samples that end with its sign-off and cost about 200 nats each (the 75th percentile is among those).
    /// </summary>
    public double Threshold { get; set; } = 10;

    public int Steps { get; set; } = 30;

    public int CheckpointEvery { get; set; } = 10;

    /// <summary>'generated' or a GSM8K/MATH JSONL file.</summary>
    public string Dataset { get; set; } = "generated";

    public string Device { get; set; } = "auto";

    /// <summary>
    /// The run directory's name under <c>runs/</c>; when not given, <c>default</c> if it holds a run of these settings
    /// (or none), else a name derived from them (the trainer's <c>plan</c> decides).
    /// </summary>
    public string? RunName { get; set; }

    /// <summary>
    /// Where the score cache comes from: <c>auto</c> (a Redis container where a container runtime answers, else
    /// Debian's <c>redis-server</c> as an executable), <c>container</c>, or <c>executable</c>.
    /// </summary>
    public string Cache { get; set; } = "auto";

    /// <summary>
    /// Held-out problems the evaluator scores each checkpoint on. With 64 the same run read as 81.3 → 71.9 % greedy
    /// accuracy, and with 256 as 71.1 → 68.8 % (docs/default-models.md): 64 problems leave a change of 9 points within
    /// the noise. 256 took the main job, models present, from about 71 to 81 s.
    /// </summary>
    public int EvalProblems { get; set; } = 256;

    /// <summary>Start the Aspire dashboard (traces, logs, metrics, resource commands).</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>The Aspire dashboard's URL (loopback); the OTLP and resource-service endpoints take the next two ports.</summary>
    public string DashboardUrl { get; set; } = "http://127.0.0.1:18888";

    /// <summary>Restarts allowed to a crashed teacher, trainer or evaluator before the run is stopped.</summary>
    public int MaxRestarts { get; set; } = 3;

    /// <summary>Keep the services and the dashboard up after the run and its evaluation finish, until Ctrl+C.</summary>
    public bool KeepRunning { get; set; }

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        // Configuration and environment variables are not checked by the parser, so the choices are checked here too.
        if (!TeacherBackends.All.Contains(TeacherBackend))
            problems.Add($"--teacher-backend must be one of {string.Join(", ", TeacherBackends.All)} (got {TeacherBackend}).");
        if (TeacherBackend == TeacherBackends.OpenAI && !Uri.TryCreate(TeacherUrl, UriKind.Absolute, out _))
            problems.Add("--teacher-url must be the absolute URL of an OpenAI-compatible server with --teacher-backend openai.");
        if (TeacherModel is not null && !Directory.Exists(TeacherModel))
            problems.Add($"--teacher-model {TeacherModel} is not a directory.");
        if (Student is not null && !Directory.Exists(Student))
            problems.Add($"--student {Student} is not a directory.");
        if (Cache is not ("auto" or "container" or "executable"))
            problems.Add($"--cache must be auto, container or executable (got {Cache}).");
        // The dashboard runs over plain http, which is only acceptable on loopback.
        if (!(Uri.TryCreate(DashboardUrl, UriKind.Absolute, out var dashboard) && dashboard.Scheme == "http" && dashboard.IsLoopback && dashboard.Port is > 0 and < 65534))
            problems.Add($"--dashboard-url must be an http URL on 127.0.0.1 or localhost with a port below 65534 (got {DashboardUrl}).");
        if (EvalProblems < 1) problems.Add($"--eval-problems must be at least 1 (got {EvalProblems}).");
        if (MaxRestarts < 0) problems.Add($"--max-restarts must be at least 0 (got {MaxRestarts}).");
        return problems;
    }
}
