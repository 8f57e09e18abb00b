var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTeacherService();

var app = builder.Build();

app.MapTeacherService();

app.Run();


