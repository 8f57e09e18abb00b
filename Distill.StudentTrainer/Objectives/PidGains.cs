namespace Distill.StudentTrainer.Objectives;

/// <summary>Gains of the PID Lagrangian update (<c>--pid-kp</c>, <c>--pid-ki</c>, <c>--pid-kd</c>).</summary>
public sealed record PidGains(double Proportional, double Integral, double Derivative);
