var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTeacherService();

var app = builder.Build();

app.MapTeacherService();

var model = app.Services.GetRequiredService<Distill.TeacherService.Hosting.TeacherModel>();
app.Run();
// A teacher that could not load stopped the service: a start-up failure, not a clean stop.
return model.LoadError is null ? 0 : Distill.ServiceDefaults.ServiceExitCodes.CannotStart;


