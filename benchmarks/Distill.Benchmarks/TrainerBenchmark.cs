using System.Globalization;
using Distill.Core.Runs;
using Distill.StudentTrainer.Training;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>
/// Training steps of <c>cmdp</c> on the default models (the trained teacher and student), with the teacher service on
/// Kestrel and a real redis-server as in the platform, at the experiment's schedule (16 prompts × 8 samples, at most 48
/// new tokens): steps per minute, generated tokens per second, and the share of step time spent generating, waiting for
/// the teacher's scores and updating the student. The first step (allocations, JIT) is left out.
/// </summary>
internal static class TrainerBenchmark
{
    public static async Task RunAsync(string models, int steps)
    {
        models = Path.GetFullPath(models);
        if (!File.Exists(Path.Combine(models, "student", "config.json")))
            throw new FileNotFoundException($"no default models in {models}: train them with `dotnet run --project Distill.StudentTrainer -- bootstrap --output {models}`.");
        var runDirectory = Directory.CreateTempSubdirectory("distill-trainer-benchmark-").FullName;
        try
        {
            using var redis = await TeacherServiceBenchmark.RedisServerProcess.StartAsync();
            await using var service = await TeacherServiceBenchmark.StartServiceAsync(Path.Combine(models, "teacher"), redis.ConnectionString);
            var address = new Uri(service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            using (var http = new HttpClient { BaseAddress = address })
                await TeacherServiceBenchmark.WaitUntilHealthyAsync(http);

            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Trainer:Objective"] = "cmdp", ["Trainer:Threshold"] = "12", ["Trainer:Student"] = Path.Combine(models, "student"),
                ["Trainer:RunDirectory"] = Path.Combine(runDirectory, "run"), ["Trainer:Device"] = "cpu", ["Trainer:Steps"] = (steps + 1).ToString(CultureInfo.InvariantCulture),
                ["Trainer:BatchSize"] = "16", ["Trainer:GroupSize"] = "8", ["Trainer:MaxNewTokens"] = "48", ["Trainer:LearningRate"] = "0.0001",
                ["Trainer:CheckpointEvery"] = "1000", ["TeacherClient:BaseAddress"] = address.ToString(),
            }).Build();
            var services = new ServiceCollection().AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)).AddMetrics();
            services.AddStudentTrainer(configuration);
            await using var provider = services.BuildServiceProvider();
            await provider.GetRequiredService<PolicyTrainer>().RunAsync(CancellationToken.None);

            var measured = new RunDirectory(Path.Combine(runDirectory, "run")).ReadMetrics().Skip(1).ToArray();
            double total = measured.Sum(m => m.StepSeconds), generation = measured.Sum(m => m.GenerationSeconds),
                teacher = measured.Sum(m => m.TeacherSeconds), update = measured.Sum(m => m.UpdateSeconds);
            double tokens = measured.Sum(m => m.ResponseLength * 16 * 8);
            Console.WriteLine(Invariant($"{measured.Length} steps of 16 prompts × 8 samples, cmdp, d = 12; {Environment.ProcessorCount} cores; load average before {TeacherServiceBenchmark.LoadAverage()}"));
            Console.WriteLine("| steps/min | generated tokens/s (generation only) | generated tokens/s (whole step) | generation | teacher scoring | update | other |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
            Console.WriteLine(Invariant($"| {60 * measured.Length / total:0.0} | {tokens / generation:0} | {tokens / total:0} | {Share(generation)} | {Share(teacher)} | {Share(update)} | {Share(total - generation - teacher - update)} |"));

            string Share(double seconds) => Invariant($"{100 * seconds / total:0} %");
        }
        finally
        {
            Directory.Delete(runDirectory, recursive: true);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
