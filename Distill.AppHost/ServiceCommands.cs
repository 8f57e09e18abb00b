using System.Text.Json;

namespace Distill.AppHost;

/// <summary>How the dashboard reports our services' HTTP commands: their own message, or the problem's detail.</summary>
public static class ServiceCommands
{
    public static async Task<ExecuteCommandResult> ResultAsync(HttpCommandResultContext context)
    {
        var body = await context.Response.Content.ReadAsStringAsync(context.CancellationToken);
        string? text = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            text = json.RootElement.TryGetProperty("message", out var message) ? message.GetString()
                : json.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString()
                : null;
        }
        catch (JsonException)
        {
            // Not JSON: the status says enough.
        }
        text ??= $"{(int)context.Response.StatusCode} {context.Response.ReasonPhrase}";
        return context.Response.IsSuccessStatusCode ? CommandResults.Success(text) : CommandResults.Failure(text);
    }
}
