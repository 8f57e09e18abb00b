using Distill.TeacherService;

// libtorch's CPU kernels pinned to AVX2 before the first tensor, so a seed trains the same model on any x64 machine.
Distill.Core.Torch.CpuKernels.PinForReproducibility();

var (flags, aspNetCoreArgs, exitCode) = await TeacherCommandLine.ParseAsync(args);
if (flags is null) return exitCode;

var builder = WebApplication.CreateBuilder(aspNetCoreArgs);
builder.Configuration.AddInMemoryCollection(flags);

builder.AddServiceDefaults();
builder.AddTeacherService();

var app = builder.Build();

app.MapTeacherService();

var model = app.Services.GetRequiredService<Distill.TeacherService.Hosting.TeacherModel>();
app.Run();
// A teacher that could not load stopped the service: a start-up failure, not a clean stop.
return model.LoadError is null ? 0 : Distill.ServiceDefaults.ServiceExitCodes.CannotStart;
