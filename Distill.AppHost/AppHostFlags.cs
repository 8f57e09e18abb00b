namespace Distill.AppHost;

/// <summary>The AppHost's command-line flags and the configuration keys they set.</summary>
internal static class AppHostFlags
{
    public static readonly IReadOnlyDictionary<string, string> Keys = new Dictionary<string, string>
    {
        ["--data-dir"] = "DataDirectory", ["--teacher-backend"] = "TeacherBackend", ["--teacher-model"] = "TeacherModel",
        ["--teacher-url"] = "TeacherUrl", ["--student"] = "Student", ["--objective"] = "Objective",
        ["--threshold"] = "Threshold", ["--steps"] = "Steps", ["--checkpoint-every"] = "CheckpointEvery",
        ["--dataset"] = "Dataset", ["--device"] = "Device", ["--run-name"] = "RunName",
        ["--cache"] = "Cache", ["--dashboard-url"] = "DashboardUrl", ["--max-restarts"] = "MaxRestarts",
        ["--eval-problems"] = "EvalProblems", ["--dashboard"] = "Dashboard", ["--keep-running"] = "KeepRunning",
    };

    public static readonly IReadOnlySet<string> Booleans = new HashSet<string> { "--keep-running", "--dashboard" };
}
