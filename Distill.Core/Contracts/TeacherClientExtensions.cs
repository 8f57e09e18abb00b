using Distill.Core.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Refit;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Where the teacher service is and how long scoring may take; bound from the <c>TeacherClient</c> section.</summary>
public sealed class TeacherClientOptions
{
    public const string SectionName = "TeacherClient";

    /// <summary>Resolved by service discovery (<c>services:teacher:…</c>) when the host adds it, as ServiceDefaults does.</summary>
    public Uri BaseAddress { get; set; } = new("https+http://teacher");

    /// <summary>
    /// One try. Scoring a full batch of long sequences on a busy teacher takes tens of seconds; the standard handler's
    /// 10 s would cancel and retry work that was about to finish, multiplying the load.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>All tries together, retries and their back-off included.</summary>
    public TimeSpan TotalRequestTimeout { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>How long one try of a scoring call may take, and all tries together.</summary>
public readonly record struct ScoringTimeouts(TimeSpan Attempt, TimeSpan Total);

public static class TeacherClientExtensions
{
    /// <summary>
    /// Registers <see cref="TeacherClient"/> over <see cref="ITeacherApi"/>: a Refit client with the standard resilience
    /// pipeline sized for scoring (it replaces whatever resilience handler the host's HTTP defaults added).
    /// </summary>
    public static IHttpClientBuilder AddTeacherClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TeacherClientOptions>()
            .Bind(configuration.GetSection(TeacherClientOptions.SectionName))
            .Validate(o => o.BaseAddress.IsAbsoluteUri, "TeacherClient:BaseAddress must be an absolute URI.")
            .Validate(o => o.AttemptTimeout > TimeSpan.Zero && o.TotalRequestTimeout > o.AttemptTimeout,
                "TeacherClient:TotalRequestTimeout must exceed TeacherClient:AttemptTimeout, and both must be positive.")
            .ValidateOnStart();

        services.AddSingleton<TeacherClient>();
        var builder = services.AddRefitGeneratedClient<ITeacherApi>()
            .ConfigureHttpClient((provider, http) =>
                http.BaseAddress = provider.GetRequiredService<IOptions<TeacherClientOptions>>().Value.BaseAddress);

        builder.AddScoringResilienceHandler(provider =>
        {
            var options = provider.GetRequiredService<IOptions<TeacherClientOptions>>().Value;
            return new ScoringTimeouts(options.AttemptTimeout, options.TotalRequestTimeout);
        });
        return builder;
    }

    /// <summary>
    /// The standard resilience pipeline (rate limiter, total timeout, retry, circuit breaker, attempt timeout) with
    /// timeouts long enough for scoring; any resilience handler added before (e.g. by HTTP client defaults) is removed,
    /// since two stacked pipelines would each time out on their own clock.
    /// </summary>
    public static IHttpClientBuilder AddScoringResilienceHandler(this IHttpClientBuilder builder, Func<IServiceProvider, ScoringTimeouts> timeouts)
    {
        // HttpClient's own 100 s timeout would cut in before the pipeline's; the pipeline is the one clock.
        builder.ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan);
        // Experimental in Microsoft.Extensions.Http.Resilience 10.x, and still the documented way to replace the
        // handler that ConfigureHttpClientDefaults adds.
#pragma warning disable EXTEXP0001
        builder.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.AddStandardResilienceHandler().Configure((resilience, provider) =>
        {
            var (attempt, total) = timeouts(provider);
            resilience.AttemptTimeout.Timeout = attempt;
            resilience.TotalRequestTimeout.Timeout = total;
            // The circuit breaker's validation wants its sampling window to cover at least two attempts.
            resilience.CircuitBreaker.SamplingDuration = attempt * 2;
        });
        return builder;
    }
}
