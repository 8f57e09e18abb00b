using System.CommandLine;
using Distill.CommandLine;
using Distill.Core.Contracts;
using Distill.TeacherService.Caching;

namespace Distill.TeacherService;

/// <summary>
/// The teacher service's flags, on the one command-line layer (<c>--help</c> lists them with their defaults). Each
/// sets a key of the <c>Teacher</c> section, which environment variables (<c>Teacher__ModelPath</c>, as the AppHost
/// sets them) and appsettings.json set as well; anything else on the command line (<c>--urls</c>,
/// <c>--Teacher:Batching:MaxBatchTokens=…</c>) goes to ASP.NET Core's configuration as before.
/// </summary>
public static class TeacherCommandLine
{
    private static string Key(string path) => $"{TeacherOptions.SectionName}:{path}";

    public static readonly IReadOnlyList<Flag> Flags =
    [
        .. new[]
        {
            new Flag("--backend", Key(nameof(TeacherOptions.Backend)), "How the teacher scores.") { Choices = TeacherBackends.All },
            Flag.Value("--model-path", Key(nameof(TeacherOptions.ModelPath)), "The checkpoint directory (torch, onnx)."),
            Flag.Value("--device", Key(nameof(TeacherOptions.Device)), "cpu, cuda, cuda:N or auto."),
        }.BoundTo(new TeacherOptions(), TeacherOptions.SectionName),
        .. new[]
        {
            Flag.Value("--dtype", Key("Torch:DType"), "The torch backend's weights and compute type."),
        }.BoundTo(new TorchBackendOptions(), Key("Torch")),
        .. new[]
        {
            Flag.Value("--openai-base-address", Key("OpenAI:BaseAddress"), "The OpenAI-compatible server (vLLM) of the openai backend."),
            Flag.Value("--openai-model", Key("OpenAI:Model"), "The model name the server serves."),
            Flag.Value("--openai-max-logprobs", Key("OpenAI:MaxLogProbs"), "The server's --max-logprobs."),
        }.BoundTo(new OpenAIBackendOptions(), Key("OpenAI")),
        Flag.Value("--cache", $"ConnectionStrings:{ScoreCache.ConnectionName}", "A Redis connection string for the score cache; none scores without a cache."),
    ];

    private static readonly HashSet<string> HostArguments = new(StringComparer.OrdinalIgnoreCase)
        { "--urls", "--environment", "--contentRoot", "--applicationName" };

    /// <summary>
    /// The flags given, as configuration, and the arguments left for ASP.NET Core; null flags when the command line
    /// was answered (--help) or refused (exit code 2, naming the flag).
    /// </summary>
    public static async Task<(Dictionary<string, string?>? Flags, string[] AspNetCoreArgs, int ExitCode)> ParseAsync(string[] args)
    {
        Dictionary<string, string?>? given = null;
        string[] rest = [];
        var root = new RootCommand("Distill teacher service: per-token teacher log-probs over HTTP (POST /v1/score).")
        {
            TreatUnmatchedTokensAsErrors = false,
        }.AddFlags(Flags);
        root.SetAction(parse =>
        {
            rest = [.. parse.UnmatchedTokens];
            // ASP.NET Core's own arguments pass (the host's --urls, --environment, --contentRoot, --applicationName, and
            // configuration keys as --Section:Key=value); any other unknown flag given a separate value is a typo, which must not be ignored.
            for (int i = 0; i < rest.Length; i++)
            {
                var name = rest[i].Split('=', 2)[0];
                if (HostArguments.Contains(name))
                {
                    if (!rest[i].Contains('=')) i++;
                    continue;
                }
                // --Key=value is ASP.NET Core's configuration syntax (a test host passes its settings so).
                if (rest[i].StartsWith("--", StringComparison.Ordinal) && (name.Contains(':') || rest[i].Contains('='))) continue;
                throw new OptionsValidationProblem($"unknown flag {rest[i]}; the teacher takes the flags --help lists, --urls, and configuration keys as --Section:Key=value.");
            }
            given = parse.ToConfiguration();
            return 0;
        });
        int exitCode = await root.InvokeAsync(args);
        return (exitCode == 0 ? given : null, rest, exitCode);
    }
}
