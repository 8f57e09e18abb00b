using Distill.Core.Contracts;

namespace Distill.TeacherService;

/// <summary>The <c>Teacher</c> configuration section: which backend scores, and the service's limits.</summary>
public sealed class TeacherOptions
{
    public const string SectionName = "Teacher";

    /// <summary>
    /// <c>torch</c> (TorchSharp over a checkpoint directory), <c>onnx</c> (ONNX Runtime over the same directory) or
    /// <c>openai</c> (a remote OpenAI-compatible server).
    /// </summary>
    public string Backend { get; set; } = TeacherBackends.Torch;

    /// <summary>
    /// The torch and onnx backends' checkpoint directory: <c>config.json</c>, <c>model.safetensors</c> (or shards and
    /// their index) and the tokenizer; the onnx backend adds <c>model.onnx</c> when it is missing.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// <c>auto</c>, <c>cpu</c> or <c>cuda</c>. The onnx backend takes <c>auto</c> as <c>cpu</c>: its CUDA execution
    /// provider needs the Microsoft.ML.OnnxRuntime.Gpu package, so it runs on CUDA only when asked to.
    /// </summary>
    public string Device { get; set; } = "auto";

    /// <summary>The model id the torch and onnx backends report; the checkpoint directory's name when not set.</summary>
    public string? ModelId { get; set; }

    public TorchBackendOptions Torch { get; set; } = new();

    public OpenAIBackendOptions OpenAI { get; set; } = new();

    public RequestLimitOptions Limits { get; set; } = new();

    public BatchingOptions Batching { get; set; } = new();

    public ScoreCacheOptions Cache { get; set; } = new();
}

public sealed class TorchBackendOptions
{
    public static IReadOnlyList<string> DTypes => Core.Modeling.ModelCheckpoint.DTypeNames;

    /// <summary><c>float32</c>, <c>bfloat16</c> or <c>float16</c>; scores are returned as float32 either way.</summary>
    public string DType { get; set; } = "float32";
}

public enum OpenAIScoringMode
{
    /// <summary>OpenAI's legacy completions: <c>echo</c> + <c>logprobs</c> + <c>max_tokens</c> 0.</summary>
    Echo,

    /// <summary>vLLM's <c>prompt_logprobs</c> extension.</summary>
    PromptLogProbs,
}

/// <summary>
/// A remote OpenAI-compatible server. When it is a Distill teacher its <c>/v1/teacher</c> answers every identity
/// field; otherwise (vLLM) the model comes from <c>/v1/models</c> and the rest must be configured here.
/// </summary>
public sealed class OpenAIBackendOptions
{
    /// <summary>vLLM's default <c>--max-logprobs</c>.</summary>
    public const int VllmDefaultMaxLogProbs = 20;

    public Uri? BaseAddress { get; set; }

    public OpenAIScoringMode Mode { get; set; } = OpenAIScoringMode.Echo;

    /// <summary>The served model to ask for; the server's first model when not set.</summary>
    public string? Model { get; set; }

    public int? VocabularySize { get; set; }

    public int? MaxContext { get; set; }

    /// <summary>What identifies the remote weights (e.g. a Hugging Face revision); endpoint + model id when not set.</summary>
    public string? WeightsFingerprint { get; set; }

    public string? TokenizerFingerprint { get; set; }

    /// <summary>
    /// The largest top-k the server answers: vLLM's <c>--max-logprobs</c> (20 unless the server was started with
    /// more). It caps the <c>maxTopK</c> this service reports, so a trainer asking for more is refused at start
    /// instead of failing at its first scoring call. Not set: 20 for a vLLM server, and whatever a Distill
    /// teacher's <c>/v1/teacher</c> reports for one.
    /// </summary>
    public int? MaxLogProbs { get; set; }

    /// <summary>
    /// Sent as <c>Authorization: Bearer …</c>, for a vLLM started with <c>--api-key</c> or a hosted server; none when
    /// not set or empty. A secret:
    /// it is never logged and never part of an identity (teacher fingerprint, cache key), since it does not change
    /// a score and must not leak through one.
    /// </summary>
    public string? ApiKey { get; set; }

    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan TotalRequestTimeout { get; set; } = TimeSpan.FromMinutes(6);
}

public sealed class RequestLimitOptions
{
    public int MaxSequencesPerRequest { get; set; } = 256;

    /// <summary>Largest k of top-k candidates a request may ask for (of a vocabulary larger than <see cref="FullDistributionMaxVocabulary"/>).</summary>
    public int MaxTopK { get; set; } = 20;

    /// <summary>
    /// A teacher whose vocabulary has at most this many ids returns its whole distribution when asked (top-k = the
    /// vocabulary size), which the exact KL estimator needs; larger vocabularies keep <see cref="MaxTopK"/>, since a
    /// full distribution per token of a 150k vocabulary is megabytes per sequence.
    /// </summary>
    public int FullDistributionMaxVocabulary { get; set; } = 1024;

    /// <summary>The largest top-k a teacher of <paramref name="vocabularySize"/> ids serves.</summary>
    public int MaxTopKFor(int vocabularySize) =>
        vocabularySize <= FullDistributionMaxVocabulary ? vocabularySize : Math.Min(MaxTopK, vocabularySize);

    public long MaxRequestBodyBytes { get; set; } = 32 * 1024 * 1024;
}

public sealed class BatchingOptions
{
    /// <summary>Token budget of one forward pass (prompt + completion of every sequence in it).</summary>
    public int MaxBatchTokens { get; set; } = 16_384;

    public int MaxBatchSequences { get; set; } = 64;

    /// <summary>
    /// How long a forward pass waits for more work after the first sequence arrives. Requests that come while a
    /// pass runs are coalesced anyway; the window only helps when the model is idle.
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Sequences waiting at most; a full queue makes callers wait (back-pressure) instead of growing memory.</summary>
    public int QueueCapacity { get; set; } = 8192;
}

/// <summary>The Redis score cache; on only when <c>ConnectionStrings:cache</c> is set.</summary>
public sealed class ScoreCacheOptions
{
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Redis <c>maxmemory</c> to set (e.g. <c>512mb</c>, with LRU eviction); the server's own when not set.</summary>
    public string? MaxMemory { get; set; }

    /// <summary>A cache that answers slower than this is skipped: scoring without it beats waiting on it.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);
}
