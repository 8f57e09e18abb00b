var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTeacherService();

var app = builder.Build();

app.MapTeacherService();

app.Run();

/// <summary>Visible to the tests, which start the service on a real Kestrel port.</summary>
public partial class Program;
