using Distill.Testing;
using Distill.Core.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Distill.TeacherService.Tests;

/// <summary>The client the trainer and evaluator use, wired as they wire it: ServiceDefaults, then AddTeacherClient.</summary>
public sealed class TeacherClientTests
{
    [Fact]
    public async Task AddTeacherClientScoresThroughTheServiceDefaultsPipeline()
    {
        using var checkpoint = new TeacherCheckpoint(seed: 51);
        await using var service = TeacherHost.Start(TeacherHost.Settings(checkpoint.Directory));
        await service.WaitUntilReadyAsync();

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TeacherClient:BaseAddress"] = service.Address.ToString(),
            ["TeacherClient:AttemptTimeout"] = "00:05:00",
        });
        builder.AddServiceDefaults();
        builder.Services.AddTeacherClient(builder.Configuration);
        using var client = builder.Build();
        await client.StartAsync();

        var api = client.Services.GetRequiredService<ITeacherApi>();
        var info = await api.GetTeacherAsync();
        var request = new ScoreRequest([ScoringTests.RandomSequence(info.VocabularySize)], TopK: 3);
        var response = await api.ScoreAsync(request);

        Assert.Equal(info.Fingerprint, response.TeacherFingerprint);
        await ScoringTests.AssertMatchesInProcessAsync(checkpoint.InProcess, request, response);
        await client.StopAsync();
    }

    [Fact]
    public void AnAttemptTimeoutLongerThanTheTotalIsRefusedAtStart()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TeacherClient:BaseAddress"] = "http://127.0.0.1:1",
            ["TeacherClient:AttemptTimeout"] = "00:20:00",
        });
        builder.Services.AddTeacherClient(builder.Configuration);
        using var client = builder.Build();

        var error = Assert.ThrowsAny<Exception>(() => client.StartAsync().GetAwaiter().GetResult());
        Assert.Contains("TotalRequestTimeout", error.Message);
    }
}
