using Distill.CommandLine;

// Usage: dotnet run -c Release --project benchmarks/Distill.Benchmarks -- [--iterations 3] [--device cpu] [--threads N]
//        … -- teacher-service [--rounds 3] [--requests 32] [--threads N]
//        … -- trainer [--models data/models] [--steps 20]
//        … -- decode [--iterations 3] [--bandwidth 65] [--threads N]
//        … -- estimators [--models data/models] [--problems 200] [--samples 8] [--temperature 0.7] [--threshold 12]
// (--help lists each flag with its default.) Each prints one markdown table row per measurement.
return await BenchmarkCommandLine.Create(
    throughput: ThroughputBenchmark.RunAsync,
    teacherService: options =>
    {
        BenchmarkCommandLine.SetThreads(options);
        return TeacherServiceBenchmark.RunAsync(options.Rounds, options.Requests);
    },
    trainer: options => TrainerBenchmark.RunAsync(options.Models, options.Steps),
    decode: options =>
    {
        BenchmarkCommandLine.SetThreads(options);
        return DecodeBenchmark.RunAsync(options.Iterations, options.Bandwidth);
    },
    estimators: options => EstimatorComparison.RunAsync(options.Models, options.Problems, options.Samples, options.Temperature, options.Threshold))
    .InvokeAsync(args);
