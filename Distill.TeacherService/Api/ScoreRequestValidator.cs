using Distill.Core.Contracts;

namespace Distill.TeacherService.Api;

/// <summary>
/// Checks a request against the loaded teacher and the service limits. Errors are keyed by the JSON path of the
/// offending field (<c>sequences[2].completionTokenIds[5]</c>), so a client sees exactly what to fix.
/// </summary>
public static class ScoreRequestValidator
{
    /// <summary>Enough to locate every problem without echoing a megabyte of token ids back.</summary>
    private const int MaxErrors = 20;

    public static Dictionary<string, string[]> Validate(ScoreRequest? request, TeacherInfo teacher, RequestLimitOptions limits)
    {
        var errors = new Dictionary<string, string[]>();
        if (request is null)
        {
            errors["body"] = ["A JSON body with 'sequences' is required."];
            return errors;
        }
        ValidateTopK(errors, "topK", request.TopK, teacher);
        if (request.Sequences is null || request.Sequences.Count == 0)
        {
            errors["sequences"] = ["At least one sequence is required."];
            return errors;
        }
        if (request.Sequences.Count > limits.MaxSequencesPerRequest)
        {
            errors["sequences"] = [$"At most {limits.MaxSequencesPerRequest} sequences per request; got {request.Sequences.Count}."];
            return errors;
        }
        for (var i = 0; i < request.Sequences.Count && errors.Count < MaxErrors; i++)
        {
            var field = $"sequences[{i}]";
            if (request.Sequences[i] is not { } sequence)
            {
                errors[field] = ["A sequence must be an object with promptTokenIds and completionTokenIds."];
                continue;
            }
            ValidateTokenIds(errors, $"{field}.promptTokenIds", sequence.PromptTokenIds, teacher,
                "The prompt needs at least one token (e.g. BOS): the first completion token is scored given it.");
            ValidateTokenIds(errors, $"{field}.completionTokenIds", sequence.CompletionTokenIds, teacher,
                "The completion needs at least one token to score.");
            var length = (sequence.PromptTokenIds?.Length ?? 0) + (sequence.CompletionTokenIds?.Length ?? 0);
            if (length > teacher.MaxContext)
                errors[field] = [$"Prompt + completion is {length} tokens; the teacher's context is {teacher.MaxContext}."];
        }
        return errors;
    }

    /// <summary>Against the teacher's k, which the backend caps at its vocabulary (and a remote teacher's own k).</summary>
    public static void ValidateTopK(Dictionary<string, string[]> errors, string field, int topK, TeacherInfo teacher)
    {
        if (topK < 0 || topK > teacher.MaxTopK)
            errors[field] = [$"Must be between 0 and {teacher.MaxTopK}; got {topK}."];
    }

    public static void ValidateTokenIds(Dictionary<string, string[]> errors, string field, int[]? ids, TeacherInfo teacher, string whenEmpty)
    {
        if (ids is null || ids.Length == 0)
        {
            errors[field] = [whenEmpty];
            return;
        }
        var outside = Array.FindIndex(ids, id => id < 0 || id >= teacher.VocabularySize);
        if (outside >= 0)
            errors[$"{field}[{outside}]"] = [$"Token id {ids[outside]} is outside the vocabulary [0, {teacher.VocabularySize})."];
    }
}
