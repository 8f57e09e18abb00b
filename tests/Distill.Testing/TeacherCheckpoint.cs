using Distill.Core.Modeling;
using Distill.Core.Scoring;
using Distill.Core.Tokenization;
using TorchSharp;

namespace Distill.Testing;

/// <summary>
/// A tiny real Llama checkpoint in a temporary directory, written by <see cref="ModelCheckpoint.Save"/> with the char
/// tokenizer beside it: what the service's torch and onnx backends load (and, with another seed, a student the trainer
/// can train against it: both share the char tokenizer). <see cref="InProcess"/> is the reference the service must
/// match: <see cref="ModelScorer"/> over the same files, loaded the way the torch backend loads them.
/// </summary>
public sealed class TeacherCheckpoint : IDisposable
{
    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("distill-teacher-").FullName;
    private LlamaForCausalLM? _model;
    private ModelScorer? _scorer;

    /// <param name="vocabularySize">The config's vocab_size; above the char tokenizer's 64 it pads the vocabulary, as Qwen2.5's configs do.</param>
    public TeacherCheckpoint(long seed = 7, int maxContext = 64, int? vocabularySize = null)
    {
        Config = TinyModels.CharConfig(maxContext, vocabularySize);
        Write(seed);
    }

    /// <summary>Named like a model, since the directory name is the model id the service reports.</summary>
    public string Directory => Path.Combine(_root, "tiny-teacher");

    public LlamaConfig Config { get; }

    public int VocabularySize => Config.VocabSize;

    public ISequenceScorer InProcess
    {
        get
        {
            if (_scorer is null)
            {
                (_, _model) = ModelCheckpoint.Load(Directory, torch.CPU);
                _scorer = new ModelScorer(_model);
            }
            return _scorer;
        }
    }

    /// <summary>Replaces the weights in place with another seed's: same directory, model id and tokenizer.</summary>
    public void Write(long seed)
    {
        TinyModels.SaveCharCheckpoint(Directory, seed, Config);
        _model?.Dispose();
        (_model, _scorer) = (null, null);
    }

    public void Dispose()
    {
        _model?.Dispose();
        System.IO.Directory.Delete(_root, recursive: true);
    }
}
