namespace Distill.Core.Contracts;

/// <summary>Body of <c>POST /v1/score</c>: sequences to score and how many top candidates to return per position (0: none).</summary>
public sealed record ScoreRequest(IReadOnlyList<ScoreSequence> Sequences, int TopK = 0);

/// <summary>The prompt is context only; the teacher returns a log-prob for every completion token.</summary>
public sealed record ScoreSequence(int[] PromptTokenIds, int[] CompletionTokenIds);

/// <summary>Answer of <c>POST /v1/score</c>, one entry per request sequence, in request order.</summary>
public sealed record ScoreResponse(string ModelId, string TeacherFingerprint, IReadOnlyList<SequenceScores> Sequences);

/// <summary>
/// <c>LogProbs[t] = log p(completion[t] | prompt, completion[..t])</c>; <c>TopK[t]</c> the most likely candidates at
/// position t, most likely first (null when none were asked for). <c>Cached</c>: served from the score cache.
/// </summary>
public sealed record SequenceScores(float[] LogProbs, IReadOnlyList<TokenCandidate[]>? TopK, bool Cached);

public sealed record TokenCandidate(int TokenId, float LogProb);

/// <summary>
/// Answer of <c>GET /v1/teacher</c>: which teacher scores, so a client can check it tokenizes alike and that cached or
/// stored scores came from the same model. <c>Fingerprint</c> covers all of backend, model, weights, tokenizer
/// and how the backend computes (dtype, device class).
/// </summary>
public sealed record TeacherInfo(
    string Backend,
    string ModelId,
    string WeightsFingerprint,
    string TokenizerFingerprint,
    int VocabularySize,
    int MaxContext,
    int MaxTopK,
    string Fingerprint);
