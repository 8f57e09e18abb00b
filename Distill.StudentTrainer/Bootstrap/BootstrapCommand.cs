using System.CommandLine;
using System.Diagnostics;
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
    public bool Force { get; set; }
    public int? TeacherSteps { get; set; }
    public int? StudentSteps { get; set; }
    public int EvaluationProblems { get; set; } = 500;

}

/// <summary>What the bootstrap measured, written to <c>bootstrap.json</c> beside the two checkpoints.</summary>
public sealed record BootstrapReport(ModelReport Teacher, ModelReport Student, double TotalSeconds, int ProcessorCount, DateTimeOffset FinishedAt);

public sealed record ModelReport(string Path, long Parameters, int Steps, double FinalLoss, double GreedyAccuracy, int EvaluationProblems, double TrainingSeconds);

/// <summary>
/// <c>bootstrap</c>: trains the embedded default teacher and student by supervised learning on the generated task and
/// saves each as a checkpoint directory (config.json, model.safetensors, char_tokenizer.json). Does nothing when both
/// exist, unless <c>--force</c>.
/// </summary>
public static class BootstrapCommand
{
    public const string ReportFileName = "bootstrap.json";

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
        var clock = Stopwatch.StartNew();
        var device = TorchDevice.Resolve(options.Device);
        var tokenizer = CharTokenizer.Default;
        var generator = new MathProblemGenerator();
        var training = generator.Generate(ProblemSplit.Train, options.Seed, 30_000)
            .Select(p => PromptFormat.Encode(tokenizer, p)).Select(e => new ScoringItem(e.PromptIds.ToArray(), e.CompletionIds.ToArray())).ToArray();
        var heldOut = generator.Generate(ProblemSplit.Test, options.Seed, options.EvaluationProblems);

        var teacherRecipe = DefaultModels.Teacher(tokenizer);
        var studentRecipe = DefaultModels.Student(tokenizer);
        if (options.TeacherSteps is { } teacherSteps) teacherRecipe = teacherRecipe with { Steps = teacherSteps };
        if (options.StudentSteps is { } studentSteps) studentRecipe = studentRecipe with { Steps = studentSteps };

        var (teacher, student) = ConsoleProgress.Run("Bootstrap", teacherRecipe.Steps + studentRecipe.Steps, "steps", progress =>
            (Train(teacherRecipe, training, heldOut, tokenizer, device, options, progress),
             Train(studentRecipe, training, heldOut, tokenizer, device, options, progress)));
        var report = new BootstrapReport(teacher, student, clock.Elapsed.TotalSeconds, Environment.ProcessorCount, DateTimeOffset.UtcNow);
        RunDirectory.WriteJsonAtomically(Path.Combine(options.Output, ReportFileName), report);
        Console.WriteLine($"Default models in {Path.GetFullPath(options.Output)}: teacher {teacher.GreedyAccuracy:P1}, " +
                          $"student {student.GreedyAccuracy:P1} greedy exact match on {heldOut.Count} held-out problems; " +
                          $"{clock.Elapsed.TotalSeconds:0}s in all.");
        return report;
    }

    private static ModelReport Train(ModelRecipe recipe, ScoringItem[] training, IReadOnlyList<MathProblem> heldOut,
        CharTokenizer tokenizer, Device device, BootstrapOptions options, IProgressSteps progress)
    {
        var clock = Stopwatch.StartNew();
        torch.manual_seed(options.Seed);
        using var model = new LlamaForCausalLM(recipe.Config, device);
        using var optimizer = optim.AdamW(model.parameters(), recipe.LearningRate, weight_decay: 0.01);
        var random = new Random(options.Seed);
        double loss = double.NaN;
        for (int step = 1; step <= recipe.Steps; step++)
        {
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = SupervisedFineTuning.LearningRate(recipe.LearningRate, step, recipe.Steps, recipe.WarmupSteps);
            var batch = Enumerable.Range(0, recipe.BatchSize).Select(_ => training[random.Next(training.Length)]).ToArray();
            loss = SupervisedFineTuning.Step(model, optimizer, batch, maxGradNorm: 1.0);
            progress.Advance(status: $"{recipe.Name} step {step}/{recipe.Steps}, loss {loss:0.0000}");
        }

        double accuracy = GreedyAccuracy(model, tokenizer, heldOut);
        var path = Path.Combine(options.Output, recipe.Name);
        ModelCheckpoint.Save(path, model, recipe.Config, tokenizer.ToFiles());
        progress.WriteLine($"{recipe.Name}: {accuracy:P1} greedy exact match on {heldOut.Count} held-out problems; saved to {path}.");
        long parameters = model.parameters().Sum(p => p.numel());
        return new ModelReport(Path.GetFullPath(path), parameters, recipe.Steps, loss, accuracy, heldOut.Count, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Share of <paramref name="problems"/> whose greedy completion has the right final answer.</summary>
    public static double GreedyAccuracy(LlamaForCausalLM model, ITextTokenizer tokenizer, IReadOnlyList<MathProblem> problems, int batchSize = 100)
    {
        model.eval();
        var generator = new CompletionGenerator(model);
        int correct = 0;
        foreach (var chunk in problems.Chunk(batchSize))
        {
            var prompts = chunk.Select(p => tokenizer.Encode(PromptFormat.Render(p.Question)).ToArray()).ToArray();
            var completions = generator.Generate(prompts, tokenizer.PadTokenId,
                new SamplingOptions { Temperature = 0, MaxNewTokens = 64, StopTokenIds = [tokenizer.EosTokenId], VocabularyLimit = tokenizer.VocabularySize });
            correct += chunk.Where((p, i) => CompletionGrade.Of(tokenizer, completions[i].TokenIds, p.Answer).IsCorrect).Count();
        }
        return correct / (double)problems.Count;
    }
}
