using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Distill.AppHost;

/// <summary>The run's settings and directories, read and checked before anything starts.</summary>
public sealed record AppHostSettings(AppHostOptions Options, string DataDirectory, string TeacherModel, string StudentModel)
{
    public string ModelsDirectory => Path.Combine(DataDirectory, "models");

    /// <summary>
    /// Flags over the <c>Distill</c> section of configuration (appsettings.json, <c>Distill__*</c> variables); null,
    /// with the problems on standard error, when they cannot run.
    /// </summary>
    public static AppHostSettings? Read(IReadOnlyDictionary<string, string?> flags)
    {
        AppHostOptions options;
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
                .AddEnvironmentVariables()
                .AddInMemoryCollection(flags)
                .Build();
            options = configuration.GetSection(AppHostOptions.SectionName).Get<AppHostOptions>() ?? new AppHostOptions();
        }
        catch (InvalidOperationException error)
        {
            Console.Error.WriteLine($"error: {error.Message}");
            return null;
        }
        if (options.Validate() is { Count: > 0 } problems)
        {
            foreach (var problem in problems) Console.Error.WriteLine($"error: {problem}");
            return null;
        }
        var data = Path.GetFullPath(options.DataDirectory);
        var models = Path.Combine(data, "models");
        return new AppHostSettings(options, data,
            options.TeacherModel is { } teacher ? Path.GetFullPath(teacher) : Path.Combine(models, "teacher"),
            options.Student is { } student ? Path.GetFullPath(student) : Path.Combine(models, "student"));
    }

    /// <summary>The trainer's flags of this run, as the trainer resource and its <c>plan</c> take them.</summary>
    public IReadOnlyList<string> TrainingFlags =>
    [
        "--student", StudentModel, "--objective", Options.Objective,
        "--threshold", Options.Threshold.ToString("R", CultureInfo.InvariantCulture),
        "--steps", Options.Steps.ToString(CultureInfo.InvariantCulture),
        "--checkpoint-every", Options.CheckpointEvery.ToString(CultureInfo.InvariantCulture),
        "--dataset", Options.Dataset, "--device", Options.Device,
    ];

    /// <summary>
    /// The trainer's own answer (<c>Distill.StudentTrainer plan</c>) to "are these training flags valid, and which run
    /// directory do they train in?": one home for both, so a typo in <c>--objective</c> is refused here, before Redis
    /// or the teacher start, with the trainer's message. Null, with the problems on standard error, when refused.
    /// </summary>
    public async Task<TrainerPlan?> AskTrainerAsync(CancellationToken cancellationToken)
    {
        var trainer = typeof(AppHostSettings).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "Distill.TrainerAssembly").Value!;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[trainer, "plan", "--runs-dir", Path.Combine(DataDirectory, "runs"), .. TrainingFlags])
            start.ArgumentList.Add(argument);
        if (Options.RunName is { } name) { start.ArgumentList.Add("--run-name"); start.ArgumentList.Add(name); }
        if (Options.Student is null) start.ArgumentList.Add("--student-pending");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            Console.Error.Write(await errors);
            return null;
        }
        return JsonSerializer.Deserialize<TrainerPlan>(await output, JsonSerializerOptions.Web);
    }
}

/// <summary>The trainer's <c>plan</c> answer: the run directory and why that one.</summary>
public sealed record TrainerPlan(string RunDirectory, string Reason);
