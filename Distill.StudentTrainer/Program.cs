using Distill.CommandLine;
using Distill.StudentTrainer.Bootstrap;
using Distill.StudentTrainer.Training;
using Microsoft.Extensions.Options;

// libtorch's CPU kernels pinned to AVX2 before the first tensor, so a seed trains the same model on any x64 machine.
Distill.Core.Torch.CpuKernels.PinForReproducibility();

// A training run, or `bootstrap`: the default teacher and student trained from scratch.
return await TrainerCommandLine.Create(train: TrainAsync, bootstrap: BootstrapCommand.RunAsync).InvokeAsync(args);

static async Task<int> TrainAsync(System.CommandLine.ParseResult parse, CancellationToken cancellationToken)
{
    var builder = WebApplication.CreateBuilder();
    builder.Configuration.AddInMemoryCollection(parse.ToConfiguration());
    builder.AddServiceDefaults();
    builder.Services.AddStudentTrainer(builder.Configuration);

    var app = builder.Build();
    app.MapDefaultEndpoints();
    app.MapCheckpointEndpoints();
    try
    {
        await app.RunAsync(cancellationToken);
    }
    catch (OptionsValidationException invalid)
    {
        // Bad settings are the user's to fix: each message names its flag, and there is no stack trace.
        foreach (var failure in invalid.Failures)
            Console.Error.WriteLine($"error: {failure}");
        return ExitCodes.Usage;
    }
    return Environment.ExitCode;
}
