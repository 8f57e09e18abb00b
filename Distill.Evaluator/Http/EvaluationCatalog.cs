using Distill.Core.Runs;
using Distill.Evaluator.Runs;
using Microsoft.Extensions.Options;

namespace Distill.Evaluator.Http;

/// <summary>The run directories the HTTP API serves: the watched run, and every run under the runs root.</summary>
public sealed class EvaluationCatalog(IOptionsMonitor<EvaluatorOptions> options)
{
    /// <summary>Read on every request: runs appear while the service is up, and listing a few folders is cheap.</summary>
    public IReadOnlyList<RunDirectory> Runs()
    {
        var current = options.CurrentValue;
        var paths = new List<string>();
        if (current.RunDirectory is { } runDirectory) paths.Add(runDirectory);
        if (current.RunsRoot is { } runsRoot && Directory.Exists(runsRoot))
            paths.AddRange(Directory.EnumerateDirectories(runsRoot).Where(path => File.Exists(Path.Combine(path, "run.json"))).Order());
        return paths.Select(path => new RunDirectory(path)).DistinctBy(run => run.Path).ToArray();
    }

    public IEnumerable<StoredEvaluation> All() => Runs().SelectMany(EvaluationStore.ReadAll);

    public StoredEvaluation? Find(string runId, int step) =>
        Runs().Where(run => EvaluationStore.RunIdOf(run) == runId)
            .Select(run => EvaluationStore.Read(run, step))
            .FirstOrDefault(stored => stored is not null);
}
