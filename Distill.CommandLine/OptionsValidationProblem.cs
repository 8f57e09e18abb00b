namespace Distill.CommandLine;

/// <summary>
/// A flag or option value that cannot be understood; the message names the flag. A program reports it as
/// <c>error: …</c> with <see cref="ExitCodes.Usage"/>, never with a stack trace: it is the user's to fix.
/// </summary>
public sealed class OptionsValidationProblem(string message) : Exception(message);

/// <summary>Exit codes of the command-line layer.</summary>
public static class ExitCodes
{
    /// <summary>The command line or the options it configures are wrong (an unknown flag, a missing or invalid value).</summary>
    public const int Usage = 2;

    /// <summary>Stopped by Ctrl+C or SIGTERM before it finished (128 + SIGINT, the shell's convention); what it wrote is kept.</summary>
    public const int Stopped = 130;
}
