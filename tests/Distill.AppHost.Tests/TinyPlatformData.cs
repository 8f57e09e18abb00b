using Distill.Testing;

namespace Distill.AppHost.Tests;

/// <summary>
/// A data directory with tiny random models (the char tokenizer's, passed as --teacher-model and --student) and the
/// bootstrap's report in place, so the models resource returns at once and a training step takes about a second.
/// </summary>
public sealed class TinyPlatformData : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("distill-apphost-").FullName;

    public TeacherCheckpoint Teacher { get; } = new(seed: 7, maxContext: 256);

    public TeacherCheckpoint Student { get; } = new(seed: 11, maxContext: 256);

    public TinyPlatformData()
    {
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "models"));
        File.WriteAllText(Path.Combine(Directory, "models", "bootstrap.json"), "{}");
    }

    public string RunsDirectory => Path.Combine(Directory, "runs");

    /// <summary>
    /// The flags that point the AppHost at these models, plus a short schedule; evaluations on 4 problems (a random
    /// model never stops, so each problem costs the longest completion), and no dashboard unless a test needs it.
    /// </summary>
    public string[] Flags(int steps, int checkpointEvery, bool dashboard = false) =>
        ["--teacher-model", Teacher.Directory, "--student", Student.Directory,
         "--steps", steps.ToString(), "--checkpoint-every", checkpointEvery.ToString(), "--eval-problems", "4",
         "--dashboard", dashboard ? "true" : "false"];

    public void Dispose()
    {
        Teacher.Dispose();
        Student.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
