using System.CommandLine;
using Distill.CommandLine;
using Microsoft.Extensions.Configuration;

/// <summary>What a benchmark runs with, bound from the <c>Benchmark</c> section its flags write.</summary>
public sealed class BenchmarkOptions
{
    public const string SectionName = "Benchmark";

    public int Iterations { get; set; } = 3;
    public string Device { get; set; } = "cpu";
    public int? Threads { get; set; }
    public int Rounds { get; set; } = 3;
    public int Requests { get; set; } = 32;
    public string Models { get; set; } = "data/models";
    public int Steps { get; set; } = 20;
    public double Bandwidth { get; set; } = 65;
    public int Problems { get; set; } = 200;
    public int Samples { get; set; } = 8;
    public double Temperature { get; set; } = 0.7;
    public double Threshold { get; set; } = 12;
}

/// <summary>
/// The benchmarks' command line: model throughput (the root command), <c>teacher-service</c>, <c>trainer</c>,
/// <c>decode</c> and <c>estimators</c>; each prints markdown table rows.
/// </summary>
public static class BenchmarkCommandLine
{
    private static Flag Value(string name, string property, string description) =>
        Flag.Value(name, $"{BenchmarkOptions.SectionName}:{property}", description);

    private static readonly Flag Iterations = Value("--iterations", nameof(BenchmarkOptions.Iterations), "Timed iterations after one warm-up.");
    private static readonly Flag Threads = Value("--threads", nameof(BenchmarkOptions.Threads),
        "libtorch threads (default: libtorch's own; on a shared machine its spinning workers can cost more than they bring).");
    private static readonly Flag Models = Value("--models", nameof(BenchmarkOptions.Models), "The default models' directory (from `bootstrap`).");

    /// <summary>On a machine shared with other jobs, libtorch's spinning worker threads can cost more than they bring.</summary>
    public static void SetThreads(BenchmarkOptions options)
    {
        if (options.Threads is { } threads)
            TorchSharp.torch.set_num_threads(threads);
    }

    public static RootCommand Create(Func<BenchmarkOptions, Task> throughput, Func<BenchmarkOptions, Task> teacherService,
        Func<BenchmarkOptions, Task> trainer, Func<BenchmarkOptions, Task> decode, Func<BenchmarkOptions, Task> estimators)
    {
        var root = Command(new RootCommand("Distill benchmarks: throughput of the TorchSharp model (scoring, generation with and without the KV cache) " +
            "on random-initialised models of the default sizes."), throughput, Iterations, Value("--device", nameof(BenchmarkOptions.Device), "cpu, cuda, cuda:N or auto."), Threads);
        root.Subcommands.Add(Command(new Command("teacher-service", "The teacher service over HTTP against the same model in process."), teacherService,
            Value("--rounds", nameof(BenchmarkOptions.Rounds), "Measured rounds."),
            Value("--requests", nameof(BenchmarkOptions.Requests), "Least requests per round."), Threads));
        root.Subcommands.Add(Command(new Command("trainer", "Training steps on the default models, and where their time goes."), trainer,
            Models, Value("--steps", nameof(BenchmarkOptions.Steps), "Training steps.")));
        root.Subcommands.Add(Command(new Command("decode", "Decoding speed against the memory-bandwidth bound."), decode,
            Iterations, Value("--bandwidth", nameof(BenchmarkOptions.Bandwidth), "The machine's memory bandwidth in GB/s, for the bound."), Threads));
        root.Subcommands.Add(Command(new Command("estimators", "The KL estimators' variance and bias on the default models (docs/estimators.md)."), estimators,
            Models, Value("--problems", nameof(BenchmarkOptions.Problems), "Held-out problems."),
            Value("--samples", nameof(BenchmarkOptions.Samples), "Samples per problem."),
            Value("--temperature", nameof(BenchmarkOptions.Temperature), "Sampling temperature τ."),
            Value("--threshold", nameof(BenchmarkOptions.Threshold), "The KL budget d the CSR is computed at.")));
        return root;
    }

    private static TCommand Command<TCommand>(TCommand command, Func<BenchmarkOptions, Task> run, params Flag[] flags) where TCommand : Command
    {
        command.AddFlags(flags.BoundTo(new BenchmarkOptions(), BenchmarkOptions.SectionName));
        command.SetAction(async (parse, _) =>
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(parse.ToConfiguration()).Build();
            await run(configuration.GetSection(BenchmarkOptions.SectionName).Get<BenchmarkOptions>() ?? new BenchmarkOptions());
            return 0;
        });
        return command;
    }
}
