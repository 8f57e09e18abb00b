using Distill.Core.Tasks;

namespace Distill.StudentTrainer.Training;

/// <summary>
/// The training problems and which of them each step uses: a deterministic function of the seed and the step, so a
/// resumed run sees exactly the prompts an uninterrupted one would (the data position is the step).
/// </summary>
public sealed class PromptSource
{
    private readonly IReadOnlyList<MathProblem> problems;
    private readonly int seed;

    private PromptSource(IReadOnlyList<MathProblem> problems, int seed)
    {
        this.problems = problems;
        this.seed = seed;
    }

    public int Count => problems.Count;

    /// <summary>'generated' (the built-in task's training split) or a GSM8K/MATH JSONL file.</summary>
    public static async Task<PromptSource> LoadAsync(string dataset, int seed, CancellationToken cancellationToken)
    {
        if (dataset == "generated")
            return new PromptSource(new MathProblemGenerator().Generate(ProblemSplit.Train, seed, 20_000), seed);

        var problems = new List<MathProblem>();
        await foreach (var problem in ReadAsync(dataset, cancellationToken))
            problems.Add(problem);
        if (problems.Count == 0)
            throw new InvalidDataException($"{dataset}: the dataset holds no problems.");
        return new PromptSource(problems, seed);
    }

    /// <summary>The <paramref name="count"/> problems of step <paramref name="step"/>.</summary>
    public IReadOnlyList<MathProblem> Batch(int step, int count)
    {
        // One shuffled pass per epoch of the data, reshuffled per epoch: no problem repeats within an epoch.
        var batch = new List<MathProblem>(count);
        long position = (long)(step - 1) * count;
        for (int i = 0; i < count; i++, position++)
        {
            int epoch = (int)(position / problems.Count);
            var order = Permutation(epoch);
            batch.Add(problems[order[(int)(position % problems.Count)]]);
        }
        return batch;
    }

    private int[]? cachedOrder;
    private int cachedEpoch = -1;

    private int[] Permutation(int epoch)
    {
        if (epoch == cachedEpoch) return cachedOrder!;
        var order = Enumerable.Range(0, problems.Count).ToArray();
        // Not HashCode.Combine: it is randomised per process, and a resumed run must see the same order.
        new Random(unchecked(seed * 1_000_003 + epoch)).Shuffle(order);
        (cachedOrder, cachedEpoch) = (order, epoch);
        return order;
    }

    // GSM8K rows have 'question'/'answer', MATH rows 'problem'/'solution': the first line tells which.
    private static IAsyncEnumerable<MathProblem> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var first = File.ReadLines(path).FirstOrDefault(l => !string.IsNullOrWhiteSpace(l)) ?? "";
        return first.Contains("\"problem\"", StringComparison.Ordinal)
            ? MathDatasetLoader.ReadMathAsync(path, cancellationToken)
            : MathDatasetLoader.ReadGsm8kAsync(path, cancellationToken);
    }
}
