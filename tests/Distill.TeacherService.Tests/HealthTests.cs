using Distill.Testing;
using System.Net;

namespace Distill.TeacherService.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task ReadinessIsUnhealthyWhileTheModelLoadsAndLivenessIsNot()
    {
        using var checkpoint = new TeacherCheckpoint();
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory), loading.Task);
        using var http = host.CreateHttpClient();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive")).StatusCode);
        using (var score = await http.PostAsync("/v1/score", JsonContent("""{"sequences":[{"promptTokenIds":[1],"completionTokenIds":[2]}]}""")))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, score.StatusCode);

        loading.SetResult();
        await host.WaitUntilReadyAsync();
        Assert.Equal("Healthy", await http.GetStringAsync("/health"));
    }

    internal static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
