namespace Distill.Dashboard.Components;

/// <summary>A stable color per service, so one service looks the same on every page and in every chart.</summary>
internal static class ServiceColor
{
    public static string For(string service)
    {
        // FNV-1a: string.GetHashCode differs between processes, and the colors should not.
        uint hash = 2166136261;
        foreach (char c in service) hash = (hash ^ c) * 16777619;
        return $"hsl({hash % 360}, 62%, 42%)";
    }
}
