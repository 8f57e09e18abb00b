using System.Text.Json;
using System.Text.Json.Serialization;
using Distill.Evaluator.Cli;
using Distill.Evaluator.Http;

namespace Distill.Evaluator;

public static class EvaluatorWebApplication
{
    /// <summary>The HTTP face of <c>serve</c> and <c>watch</c>: the evaluations API and <c>/health</c>.</summary>
    public static WebApplication Create(CommandInput input)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(input.Configuration);
        builder.AddServiceDefaults();
        builder.AddEvaluator();
        // Enums as in evaluation.json ("top-k-exact"), so the API and the files read alike.
        builder.Services.ConfigureHttpJsonOptions(json =>
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower)));

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapEvaluationEndpoints();
        app.MapReportsPage();
        return app;
    }
}
