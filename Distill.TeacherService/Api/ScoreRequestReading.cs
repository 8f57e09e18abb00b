using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Distill.Core.Contracts;

namespace Distill.TeacherService.Api;

/// <summary>A limit of the request broken while its body was read; <see cref="Field"/> is the JSON path to name.</summary>
public sealed class RequestLimitExceededException(string field, string message) : JsonException(message)
{
    public string Field { get; } = field;
}

/// <summary>
/// Enforces <c>/v1/score</c>'s sequence-count and context limits while the body is deserialized, one sequence at a
/// time, instead of after the whole body is in memory: a 27 MB body of 300k sequences used to be read, and held as
/// objects, before its 400. System.Text.Json reads a list incrementally, so a callback after each sequence can stop
/// the read; that callback is per type, not per request, so the request's limits and count travel in an
/// <see cref="AsyncLocal{T}"/> that <see cref="Begin"/> sets for the request's pipeline.
/// </summary>
public static class ScoreRequestReading
{
    private static readonly AsyncLocal<Reading?> Current = new();

    /// <summary>Counts the sequences of one request body from here until disposed.</summary>
    public static IDisposable Begin(RequestLimitOptions limits, TeacherInfo? teacher)
    {
        var reading = new Reading(limits, teacher);
        Current.Value = reading;
        return reading;
    }

    /// <summary>A type-info modifier for the service's JSON options: the check after each <see cref="ScoreSequence"/>.</summary>
    public static void AddLimits(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Type == typeof(ScoreSequence))
            typeInfo.OnDeserialized = sequence => Current.Value?.Counted((ScoreSequence)sequence);
    }

    private sealed class Reading(RequestLimitOptions limits, TeacherInfo? teacher) : IDisposable
    {
        private int _sequences;

        public void Counted(ScoreSequence sequence)
        {
            var index = _sequences++;
            if (_sequences > limits.MaxSequencesPerRequest)
                throw new RequestLimitExceededException("sequences",
                    $"At most {limits.MaxSequencesPerRequest} sequences per request; the body has more (refused while reading it).");
            // The context is known once the teacher is loaded; before that the request is refused with 503 anyway.
            var length = (sequence.PromptTokenIds?.Length ?? 0) + (sequence.CompletionTokenIds?.Length ?? 0);
            if (teacher is not null && length > teacher.MaxContext)
                throw new RequestLimitExceededException($"sequences[{index}]",
                    $"Prompt + completion is {length} tokens; the teacher's context is {teacher.MaxContext}.");
        }

        public void Dispose()
        {
            if (ReferenceEquals(Current.Value, this)) Current.Value = null;
        }
    }
}
