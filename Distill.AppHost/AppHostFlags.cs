using System.CommandLine;
using Distill.CommandLine;
using Distill.Core.Contracts;

namespace Distill.AppHost;

/// <summary>The AppHost's command-line flags, each writing one key of the <c>Distill</c> configuration section.</summary>
internal static class AppHostFlags
{
    private static string Key(string property) => $"{AppHostOptions.SectionName}:{property}";

    public static readonly IReadOnlyList<Flag> All = new[]
    {
        new Flag("--teacher-backend", Key(nameof(AppHostOptions.TeacherBackend)), "How the teacher is served.") { Choices = TeacherBackends.All },
        Flag.Value("--teacher-model", Key(nameof(AppHostOptions.TeacherModel)), "The teacher's checkpoint directory (torch, onnx); by default data/models/teacher."),
        Flag.Value("--teacher-url", Key(nameof(AppHostOptions.TeacherUrl)), "An OpenAI-compatible server (vLLM) to score with, for --teacher-backend openai.") with { Check = FlagChecks.AbsoluteUri },
        Flag.Value("--student", Key(nameof(AppHostOptions.Student)), "The student checkpoint to start from; by default data/models/student."),
        Flag.Value("--objective", Key(nameof(AppHostOptions.Objective)), "What to train on; the trainer checks it (Distill.StudentTrainer --help)."),
        Flag.Value("--threshold", Key(nameof(AppHostOptions.Threshold)), "The KL budget d.") with { Check = FlagChecks.Number },
        Flag.Value("--steps", Key(nameof(AppHostOptions.Steps)), "Training steps.") with { Check = FlagChecks.Integer },
        Flag.Value("--checkpoint-every", Key(nameof(AppHostOptions.CheckpointEvery)), "Steps between checkpoints (each one is evaluated).") with { Check = FlagChecks.Integer },
        Flag.Value("--dataset", Key(nameof(AppHostOptions.Dataset)), "'generated' (the built-in task) or a GSM8K/MATH JSONL file."),
        Flag.Value("--device", Key(nameof(AppHostOptions.Device)), "Where the models run: auto, cpu, cuda or cuda:N."),
        Flag.Value("--eval-problems", Key(nameof(AppHostOptions.EvalProblems)), "Held-out problems per evaluation.") with { Check = FlagChecks.Integer },
        Flag.Value("--data-dir", Key(nameof(AppHostOptions.DataDirectory)), "Where models, runs and the cache's data live."),
        Flag.Value("--run-name", Key(nameof(AppHostOptions.RunName)), "The run directory's name under runs/; by default 'default' or one named after the settings."),
        new Flag("--cache", Key(nameof(AppHostOptions.Cache)), "Where Redis comes from: a container where a runtime answers, else redis-server.") { Choices = ["auto", "container", "executable"] },
        Flag.Switch("--dashboard", Key(nameof(AppHostOptions.Dashboard)), "Start the Aspire dashboard.", defaultValue: true),
        Flag.Value("--dashboard-url", Key(nameof(AppHostOptions.DashboardUrl)), "The dashboard's loopback http URL; its OTLP receiver and resource service take the next two ports."),
        Flag.Value("--max-restarts", Key(nameof(AppHostOptions.MaxRestarts)), "Restarts allowed to a crashed teacher, trainer or evaluator.") with { Check = FlagChecks.Integer },
        Flag.Switch("--keep-running", Key(nameof(AppHostOptions.KeepRunning)), "Keep the services, the reports page and the dashboard up after the run, until Ctrl+C."),
    }.BoundTo(new AppHostOptions(), AppHostOptions.SectionName);

    /// <summary>The flags given, as configuration; null when the command line was answered already (--help) or refused.</summary>
    public static async Task<(Dictionary<string, string?>? Flags, int ExitCode)> ParseAsync(string[] args)
    {
        Dictionary<string, string?>? given = null;
        var root = new RootCommand("Distill: the .NET Aspire AppHost of reward-aware distillation (cache, teacher, trainer, evaluator).").AddFlags(All);
        root.SetAction(parse => { given = parse.ToConfiguration(); return 0; });
        int exitCode = await root.InvokeAsync(args);
        return (exitCode == 0 ? given : null, exitCode);
    }
}
