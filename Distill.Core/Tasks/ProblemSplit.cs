namespace Distill.Core.Tasks;

/// <summary>
/// Which part of the generated problem space a problem belongs to. Membership is decided by a hash of the question
/// text (train 90%, validation 5%, test 5%), so the splits are disjoint whatever seeds and counts are asked for.
/// </summary>
public enum ProblemSplit
{
    Train,
    Validation,
    Test,
}
