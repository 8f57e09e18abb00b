namespace Distill.Core.Tasks;

/// <summary>
/// One maths problem. <see cref="Solution"/> is the worked solution the student learns to write (for generated
/// problems one line per step like <c>12+5=17</c>, ending <c>#### 17</c>); <see cref="Answer"/> is the bare final answer
/// that <see cref="AnswerChecker"/> compares against.
/// </summary>
public sealed record MathProblem(string Id, string Question, string Solution, string Answer);
