namespace Distill.Core.Contracts;

/// <summary>How a teacher service scores: the one list of backend names, for the service and the AppHost alike.</summary>
public static class TeacherBackends
{
    public const string Torch = "torch";
    public const string Onnx = "onnx";
    public const string OpenAI = "openai";

    public static readonly string[] All = [Torch, Onnx, OpenAI];
}
