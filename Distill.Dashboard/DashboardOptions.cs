using System.ComponentModel.DataAnnotations;

namespace Distill.Dashboard;

/// <summary>Where the dashboard listens, how much telemetry it keeps and which reports it serves.</summary>
public sealed class DashboardOptions : IValidatableObject
{
    /// <summary>The one http address for the pages and the OTLP/HTTP receiver; loopback so nothing leaves the machine.</summary>
    public string Url { get; set; } = "http://127.0.0.1:18888";

    /// <summary>
    /// An http address for the OTLP/gRPC receiver (HTTP/2 without TLS, so it cannot share <see cref="Url"/>'s port);
    /// none when null or empty. The app host uses 18889, as Aspire's dashboard does.
    /// </summary>
    public string? OtlpGrpcUrl { get; set; }

    /// <summary>Spans kept in memory; the oldest go first.</summary>
    [Range(1, 10_000_000)]
    public int MaxSpans { get; set; } = 20_000;

    /// <summary>Log records kept in memory; the oldest go first.</summary>
    [Range(1, 10_000_000)]
    public int MaxLogRecords { get; set; } = 20_000;

    /// <summary>Metric data points kept in memory over all series; the oldest go first.</summary>
    [Range(1, 10_000_000)]
    public int MaxMetricPoints { get; set; } = 100_000;

    /// <summary>The evaluator's reports and plots, served read-only; none when null. It may appear after the start.</summary>
    public string? ReportsDirectory { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            yield return new ValidationResult($"'{Url}' is not an absolute http or https URL.", [nameof(Url)]);
        if (!string.IsNullOrEmpty(OtlpGrpcUrl) && (!Uri.TryCreate(OtlpGrpcUrl, UriKind.Absolute, out var grpc) || grpc.Scheme != "http"))
            yield return new ValidationResult($"'{OtlpGrpcUrl}' is not an absolute http URL.", [nameof(OtlpGrpcUrl)]);
        if (ReportsDirectory is { Length: 0 })
            yield return new ValidationResult("the reports directory is empty; leave it null for none.", [nameof(ReportsDirectory)]);
    }
}
