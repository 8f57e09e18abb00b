namespace Distill.AppHost;

/// <summary>
/// What the user chooses when starting the platform: <c>appsettings.json</c> beside the AppHost, overridden by flags
/// (<c>--teacher-backend onnx</c> sets <c>TeacherBackend</c>; see <see cref="AppHostFlags"/>).
/// </summary>
public sealed class AppHostOptions
{
    /// <summary>Where default models, runs, logs and Redis data live.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary><c>torch</c> (a checkpoint directory), <c>onnx</c> (exported next to the checkpoint) or <c>openai</c> (a URL).</summary>
    public string TeacherBackend { get; set; } = "torch";

    /// <summary>The teacher's checkpoint directory (torch, onnx); the default teacher when empty.</summary>
    public string? TeacherModel { get; set; }

    /// <summary>An OpenAI-compatible server (vLLM) to score with, for the openai backend.</summary>
    public string? TeacherUrl { get; set; }

    /// <summary>The student checkpoint to start from; the default student when empty.</summary>
    public string? Student { get; set; }

    public string Objective { get; set; } = "cmdp";

    /// <summary>The KL budget d of the run.</summary>
    public double Threshold { get; set; } = 12;

    public int Steps { get; set; } = 30;

    public int CheckpointEvery { get; set; } = 10;

    /// <summary>'generated' or a GSM8K/MATH JSONL file.</summary>
    public string Dataset { get; set; } = "generated";

    public string Device { get; set; } = "auto";

    /// <summary>
    /// The run directory's name under <c>runs/</c>; when not given, <c>default</c> if it holds a run of these settings
    /// (or none), else a name derived from them (see <see cref="RunSelection"/>).
    /// </summary>
    public string? RunName { get; set; }

    /// <summary>The built-in dashboard's URL (UI and OTLP receiver); empty turns it off.</summary>
    public string DashboardUrl { get; set; } = "http://127.0.0.1:18888";

    /// <summary>The built-in dashboard's OTLP/gRPC receiver (for tools that only speak gRPC); empty turns it off.</summary>
    public string DashboardOtlpGrpcUrl { get; set; } = "http://127.0.0.1:18889";

    /// <summary>Send telemetry to this OTLP/HTTP endpoint instead (a standalone Aspire dashboard, a collector).</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>Keep the services and the dashboard up after the run and its evaluation finish, until Ctrl+C.</summary>
    public bool KeepRunning { get; set; }

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (TeacherBackend is not ("torch" or "onnx" or "openai"))
            problems.Add($"--teacher-backend must be torch, onnx or openai (got {TeacherBackend}).");
        if (TeacherBackend == "openai" && !Uri.TryCreate(TeacherUrl, UriKind.Absolute, out _))
            problems.Add("--teacher-url must be the absolute URL of an OpenAI-compatible server with --teacher-backend openai.");
        if (TeacherModel is not null && !Directory.Exists(TeacherModel))
            problems.Add($"--teacher-model {TeacherModel} is not a directory.");
        if (Student is not null && !Directory.Exists(Student))
            problems.Add($"--student {Student} is not a directory.");
        if (!(Threshold > 0) || !double.IsFinite(Threshold))
            problems.Add($"--threshold must be a finite number > 0 (got {Threshold}).");
        if (Steps < 1) problems.Add($"--steps must be at least 1 (got {Steps}).");
        if (CheckpointEvery < 1) problems.Add($"--checkpoint-every must be at least 1 (got {CheckpointEvery}).");
        if (Dataset != "generated" && !File.Exists(Dataset))
            problems.Add($"--dataset {Dataset} is neither 'generated' nor an existing file.");
        if (!string.IsNullOrEmpty(DashboardOtlpGrpcUrl) && !(Uri.TryCreate(DashboardOtlpGrpcUrl, UriKind.Absolute, out var grpc) && grpc.Scheme == "http"))
            problems.Add($"--dashboard-otlp-grpc-url must be an absolute http URL, or empty for none (got {DashboardOtlpGrpcUrl}).");
        if (RunName is not null && (RunName.Length == 0 || RunName != Path.GetFileName(RunName) || RunName is "." or ".."))
            problems.Add($"--run-name must be a plain directory name (got '{RunName}').");
        if (OtlpEndpoint is not null && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
            problems.Add($"--otlp-endpoint must be an absolute URL (got {OtlpEndpoint}).");
        return problems;
    }
}
