using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Serialization;
using Distill.CommandLine;
using Distill.Core.Generation;
using Distill.Core.Modeling;
using Distill.Core.Progress;
using Distill.Core.Runs;
using Distill.Core.Scoring;
using Distill.Core.Tasks;
using Distill.Core.Tokenization;
using Distill.Core.Torch;
using Distill.StudentTrainer.Training;
using Microsoft.Extensions.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.StudentTrainer.Bootstrap;

/// <summary>What <c>bootstrap</c> does, bound from the <c>Bootstrap</c> section (flags: <see cref="TrainerCommandLine.BootstrapFlags"/>).</summary>
public sealed class BootstrapOptions
{
    public const string SectionName = "Bootstrap";

    public string Output { get; set; } = "data/models";
    public string Device { get; set; } = "auto";
    public int Seed { get; set; } = 1;

    /// <summary>
    /// Seed of the initial weights and the order of the training batches, when it should differ from <see cref="Seed"/>,
    /// which then draws the data and the held-out problems only: the same data trained from another start.
    /// </summary>
    public int? TrainingSeed { get; set; }

    public bool Force { get; set; }
    public int? TeacherSteps { get; set; }
    public int? StudentSteps { get; set; }
    public int? StudentProblems { get; set; }
    public int EvaluationProblems { get; set; } = 500;

    /// <summary>The verb, or comma-separated verbs, of the teacher's blind spot (<see cref="TeacherBlindSpot"/>), or <c>none</c> for correct data throughout.</summary>
    public string BlindSpot { get; set; } = TeacherBlindSpot.Default.Verb;

    public double BlindSpotErrorRate { get; set; } = TeacherBlindSpot.Default.ErrorRate;

    /// <summary>Share of the student's training solutions that end with <see cref="StudentSignOff"/>'s line, a habit its teacher never has; in [0, 1).</summary>
    public double StudentSignOffShare { get; set; } = DefaultModels.StudentSignOffShare;

    /// <summary>The sign-off line itself (<see cref="StudentSignOff.WhyNotALine"/> says which it can be); a shorter one costs fewer nats.</summary>
    public string StudentSignOffLine { get; set; } = StudentSignOff.Line;

    /// <summary>The blind spot these options ask for, or null for <c>none</c>; throws with the flag's name when invalid.</summary>
    public TeacherBlindSpot? ResolveBlindSpot()
    {
        if (string.Equals(BlindSpot, "none", StringComparison.OrdinalIgnoreCase)) return null;
        var blindSpot = new TeacherBlindSpot { Verb = BlindSpot, ErrorRate = BlindSpotErrorRate };
        try
        {
            blindSpot.Validate();
        }
        catch (ArgumentException error)
        {
            throw new OptionsValidationProblem($"--blind-spot/--blind-spot-error-rate: {error.Message}");
        }
        return blindSpot;
    }

    /// <summary>Refuses, before anything is trained, every value the bootstrap cannot use; each message names its flag.</summary>
    /// <exception cref="OptionsValidationProblem">A value is out of range.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        void AtLeastOne(int? value, string flag)
        {
            if (value is < 1) problems.Add($"{flag} must be at least 1 (got {value}).");
        }
        AtLeastOne(TeacherSteps, "--teacher-steps");
        AtLeastOne(StudentSteps, "--student-steps");
        AtLeastOne(StudentProblems, "--student-problems");
        AtLeastOne(EvaluationProblems, "--eval-problems");
        if (!StudentSignOff.IsValidShare(StudentSignOffShare))
            problems.Add($"--student-sign-off-share must be within [0, 1) (got {StudentSignOffShare}).");
        if (StudentSignOff.WhyNotALine(StudentSignOffLine ?? "") is { } why)
            problems.Add($"--student-sign-off-line cannot be used: {why}.");
        if (problems.Count > 0) throw new OptionsValidationProblem(string.Join(Environment.NewLine, problems));
        ResolveBlindSpot();
    }
}

/// <summary>What the bootstrap measured, written to <c>bootstrap.json</c> beside the two checkpoints.</summary>
public sealed record BootstrapReport(ModelReport Teacher, ModelReport Student, double TotalSeconds, int ProcessorCount, DateTimeOffset FinishedAt,
    TeacherBlindSpot? BlindSpot = null, int BlindSpotProblems = 0, int TorchThreads = 0, string CpuKernelMode = "native", double StudentSignOffShare = 0,
    // Only a line other than the default, and a training seed when one is given, are recorded, so the reports of models
    // made before they were flags, which experiments compare as text (ExperimentModels), still read and write back the same.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StudentSignOffLine = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? TrainingSeed = null);

/// <summary>
/// One trained model. <see cref="BlindSpotAccuracy"/> and <see cref="OtherAccuracy"/> split <see cref="GreedyAccuracy"/>
/// into the held-out problems of the teacher's blind-spot family and the rest (null without a blind spot).
/// </summary>
public sealed record ModelReport(string Path, long Parameters, int Steps, double FinalLoss, double GreedyAccuracy, int EvaluationProblems, double TrainingSeconds,
    int TrainingProblems = 0, double? BlindSpotAccuracy = null, double? OtherAccuracy = null);

/// <summary>
/// <c>bootstrap</c>: trains the embedded default teacher and student by supervised learning on the generated task and
/// saves each as a checkpoint directory (config.json, model.safetensors, char_tokenizer.json). Does nothing when both
/// exist, unless <c>--force</c>.
/// </summary>
public static class BootstrapCommand
{
    public const string ReportFileName = "bootstrap.json";

    /// <summary>The <c>bootstrap.json</c> of a models directory; null where there is none.</summary>
    public static BootstrapReport? ReadReport(string models)
    {
        var path = Path.Combine(models, ReportFileName);
        return File.Exists(path) ? System.Text.Json.JsonSerializer.Deserialize<BootstrapReport>(File.ReadAllText(path), RunDirectory.Json) : null;
    }

    /// <summary>The <c>bootstrap</c> command's action: its flags bound, then <see cref="RunAsync(BootstrapOptions)"/>.</summary>
    public static Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        BootstrapOptions options;
        try
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(parse.ToConfiguration()).Build();
            options = configuration.GetSection(BootstrapOptions.SectionName).Get<BootstrapOptions>() ?? new BootstrapOptions();
        }
        catch (InvalidOperationException error)
        {
            // A value of the wrong type ("--seed one"): the binder's message names the key and the value.
            throw new OptionsValidationProblem(error.InnerException?.Message is { } inner ? $"{error.Message} {inner}" : error.Message);
        }
        return RunAsync(options);
    }

    /// <summary>Trains the default models unless they exist (and <see cref="BootstrapOptions.Force"/> is not set).</summary>
    public static Task<int> RunAsync(BootstrapOptions options)
    {
        options.Validate(); // before the early return, so a typo is refused even when the models exist
        var report = Path.Combine(options.Output, ReportFileName);
        if (File.Exists(report) && !options.Force)
        {
            Console.WriteLine($"The default models exist already in {Path.GetFullPath(options.Output)} (--force trains them again).");
            return Task.FromResult(0);
        }
        Run(options);
        return Task.FromResult(0);
    }

    public static BootstrapReport Run(BootstrapOptions options)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var device = TorchDevice.Resolve(options.Device);
        var blindSpot = options.ResolveBlindSpot();
        var tokenizer = CharTokenizer.Default;
        var generator = new MathProblemGenerator();
        var teacherData = TeacherData(generator.Generate(ProblemSplit.Train, options.Seed, 30_000), blindSpot, options.Seed);
        ScoringItem[] Encode(IEnumerable<MathProblem> problems) => problems
            .Select(p => PromptFormat.Encode(tokenizer, p)).Select(e => new ScoringItem(e.PromptIds.ToArray(), e.CompletionIds.ToArray())).ToArray();
        var teacherTraining = Encode(teacherData);
        var studentTraining = options.StudentSignOffShare == 0 ? teacherTraining
            : Encode(StudentSignOff.InShare(teacherData, options.StudentSignOffShare, options.Seed, options.StudentSignOffLine));
        var heldOut = generator.Generate(ProblemSplit.Test, options.Seed, options.EvaluationProblems);

        var teacherRecipe = DefaultModels.Teacher(tokenizer);
        var studentRecipe = DefaultModels.Student(tokenizer);
        if (options.TeacherSteps is { } teacherSteps) teacherRecipe = teacherRecipe with { Steps = teacherSteps };
        if (options.StudentSteps is { } studentSteps) studentRecipe = studentRecipe with { Steps = studentSteps };
        if (options.StudentProblems is { } studentProblems) studentRecipe = studentRecipe with { TrainingProblems = studentProblems };

        var (teacher, student) = ConsoleProgress.Run("Bootstrap", teacherRecipe.Steps + studentRecipe.Steps, "steps", progress =>
            (Train(teacherRecipe, teacherTraining, heldOut, tokenizer, device, options, progress),
             Train(studentRecipe, studentTraining, heldOut, tokenizer, device, options, progress)));
        var report = new BootstrapReport(teacher, student, clock.Elapsed.TotalSeconds, Environment.ProcessorCount, DateTimeOffset.UtcNow,
            blindSpot, blindSpot is null ? 0 : heldOut.Count(blindSpot.Covers), torch.get_num_threads(), CpuKernels.Mode, options.StudentSignOffShare,
            options.StudentSignOffShare > 0 && options.StudentSignOffLine != StudentSignOff.Line ? options.StudentSignOffLine : null,
            options.TrainingSeed);
        RunDirectory.WriteJsonAtomically(Path.Combine(options.Output, ReportFileName), report);
        Console.WriteLine($"Default models in {Path.GetFullPath(options.Output)}: teacher {teacher.GreedyAccuracy:P1}, " +
                          $"student {student.GreedyAccuracy:P1} greedy exact match on {heldOut.Count} held-out problems; " +
                          $"{clock.Elapsed.TotalSeconds:0}s in all.");
        return report;
    }

    /// <summary>
    /// The teacher's training data: the problems as generated, except that with a blind spot a share
    /// (<see cref="TeacherBlindSpot.ErrorRate"/>) of its family's worked solutions are the misread ones. The student is
    /// trained on the same data, as a student distilled from a teacher's outputs would be, so it starts with the blind spot.
    /// </summary>
    public static IReadOnlyList<MathProblem> TeacherData(IReadOnlyList<MathProblem> problems, TeacherBlindSpot? blindSpot, int seed)
    {
        if (blindSpot is null) return problems;
        var random = new Random(unchecked(seed * 7919 + 17));
        return problems.Select(p => blindSpot.Covers(p) && random.NextDouble() < blindSpot.ErrorRate
            ? p with { Solution = blindSpot.MisreadSolution(p) } : p).ToArray();
    }

    private static ModelReport Train(ModelRecipe recipe, ScoringItem[] allTraining, IReadOnlyList<MathProblem> heldOut,
        CharTokenizer tokenizer, Device device, BootstrapOptions options, IProgressSteps progress)
    {
        // A recipe may train on the first TrainingProblems only: a student limited by its data, trained to its plateau.
        var training = recipe.TrainingProblems is { } limit ? allTraining[..Math.Min(limit, allTraining.Length)] : allTraining;
        var clock = Stopwatch.StartNew();
        int seed = options.TrainingSeed ?? options.Seed;
        torch.manual_seed(seed);
        using var model = new LlamaForCausalLM(recipe.Config, device, initializationSeed: seed);
        using var optimizer = optim.AdamW(model.parameters(), recipe.LearningRate, weight_decay: 0.01);
        var random = new Random(seed);
        double loss = double.NaN;
        for (int step = 1; step <= recipe.Steps; step++)
        {
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = SupervisedFineTuning.LearningRate(recipe.LearningRate, step, recipe.Steps, recipe.WarmupSteps);
            var batch = Enumerable.Range(0, recipe.BatchSize).Select(_ => training[random.Next(training.Length)]).ToArray();
            loss = SupervisedFineTuning.Step(model, optimizer, batch, maxGradNorm: 1.0).Loss;
            progress.Advance(status: $"{recipe.Name} step {step}/{recipe.Steps}, loss {loss:0.0000}");
        }

        var correct = GreedyCorrect(model, tokenizer, heldOut);
        double accuracy = correct.Count(c => c) / (double)heldOut.Count;
        var blindSpot = options.ResolveBlindSpot();
        double? Share(bool inFamily)
        {
            if (blindSpot is null) return null;
            var family = heldOut.Select((p, i) => (p, i)).Where(x => blindSpot.Covers(x.p) == inFamily).ToArray();
            return family.Length == 0 ? null : family.Count(x => correct[x.i]) / (double)family.Length;
        }
        var path = Path.Combine(options.Output, recipe.Name);
        ModelCheckpoint.Save(path, model, recipe.Config, tokenizer.ToFiles());
        progress.WriteLine($"{recipe.Name}: {accuracy:P1} greedy exact match on {heldOut.Count} held-out problems" +
                           (blindSpot is null ? "" : $" ({Share(true):P1} on the blind spot, {Share(false):P1} elsewhere)") + $"; saved to {path}.");
        long parameters = model.parameters().Sum(p => p.numel());
        return new ModelReport(Path.GetFullPath(path), parameters, recipe.Steps, loss, accuracy, heldOut.Count, clock.Elapsed.TotalSeconds,
            training.Length, Share(true), Share(false));
    }

    /// <summary>Whether each of <paramref name="problems"/>' greedy completion has the right final answer.</summary>
    public static bool[] GreedyCorrect(LlamaForCausalLM model, ITextTokenizer tokenizer, IReadOnlyList<MathProblem> problems) =>
        Grades(model, tokenizer, problems, new SamplingOptions { Temperature = 0 }).Select(grade => grade.IsCorrect).ToArray();

    /// <summary>
    /// One completion of <paramref name="model"/> for each of <paramref name="problems"/>, in the task's prompt format,
    /// at most 64 new tokens and stopped at EOS whatever <paramref name="sampling"/> says, each graded by the one checker.
    /// </summary>
    public static CompletionGrade[] Grades(LlamaForCausalLM model, ITextTokenizer tokenizer, IReadOnlyList<MathProblem> problems,
        SamplingOptions sampling, int batchSize = 100)
    {
        model.eval();
        var generator = new CompletionGenerator(model);
        var grades = new List<CompletionGrade>(problems.Count);
        sampling = sampling with { MaxNewTokens = 64, StopTokenIds = [tokenizer.EosTokenId], VocabularyLimit = tokenizer.VocabularySize };
        foreach (var chunk in problems.Chunk(batchSize))
        {
            using var scope = torch.NewDisposeScope();
            var prompts = chunk.Select(p => tokenizer.Encode(PromptFormat.Render(p.Question)).ToArray()).ToArray();
            var completions = generator.Generate(prompts, tokenizer.PadTokenId, sampling);
            grades.AddRange(chunk.Select((p, i) => CompletionGrade.Of(tokenizer, completions[i].TokenIds, p.Answer)));
        }
        return grades.ToArray();
    }
}
