using Distill.CommandLine;
using Distill.Core.Runs;
using Distill.StudentTrainer.Bootstrap;

namespace Distill.Experiment;

/// <summary>
/// The models an experiment's <c>--out</c> was made from, recorded at its first invocation (<c>models.json</c>). An
/// experiment reads finished runs and the start evaluation back from <c>--out</c>, so they must have started from the
/// same teacher and student: otherwise a run trained from another student would pass for one of this experiment's.
/// Models are compared by what their bootstrap measured (<c>bootstrap.json</c> without its paths), so a copy of the
/// same models in another directory is the same models, and models trained again in the same directory are not.
/// </summary>
public static class ExperimentModels
{
    public const string FileName = "models.json";

    /// <exception cref="OptionsValidationProblem"><c>--out</c> was made from other models than <c>--models</c>.</exception>
    public static void Check(ExperimentOptions options)
    {
        var report = BootstrapCommand.ReadReport(options.Models)
                     ?? throw new OptionsValidationProblem($"--models {options.Models} has no {BootstrapCommand.ReportFileName}.");
        var identity = report with { Teacher = report.Teacher with { Path = "" }, Student = report.Student with { Path = "" } };
        var text = System.Text.Json.JsonSerializer.Serialize(identity, RunDirectory.Json);
        var recorded = Path.Combine(Path.GetFullPath(options.Output), FileName);
        if (!File.Exists(recorded))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(recorded)!);
            Core.Safetensors.AtomicWrite.WriteText(recorded, text);
        }
        else if (File.ReadAllText(recorded) != text)
            throw new OptionsValidationProblem(
                $"--out {options.Output} holds runs made from other models than --models {options.Models} (its {FileName} records " +
                $"them; these are {BootstrapCommand.ReportFileName} of {report.FinishedAt:u}): give this experiment its own --out.");
    }
}
