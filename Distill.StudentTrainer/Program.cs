using Distill.ServiceDefaults;
using Distill.StudentTrainer.Bootstrap;
using Distill.StudentTrainer.Training;
using Microsoft.Extensions.Options;

// `bootstrap` trains the embedded default teacher and student; anything else is a training run.
if (args is ["bootstrap", .. var bootstrapArgs])
    return await BootstrapCommand.RunAsync(bootstrapArgs);
// `plan` validates training flags and picks their run directory, for the AppHost before it starts anything.
if (args is ["plan", .. var planArgs])
    return RunPlanCommand.Run(planArgs);

var builder = WebApplication.CreateBuilder();
try
{
    builder.Configuration.AddInMemoryCollection(CommandLineFlags.ToConfiguration(args, TrainerOptions.CommandLineFlags, TrainerOptions.BooleanFlags));
}
catch (OptionsValidationProblem problem)
{
    Console.Error.WriteLine($"error: {problem.Message}");
    return 2;
}

builder.AddServiceDefaults();
builder.Services.AddStudentTrainer(builder.Configuration);

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapCheckpointEndpoints();
try
{
    await app.RunAsync();
}
catch (OptionsValidationException invalid)
{
    foreach (var failure in invalid.Failures)
        Console.Error.WriteLine($"error: {failure}");
    return 2;
}
return Environment.ExitCode;
