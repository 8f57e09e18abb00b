namespace Distill.ServiceDefaults; internal static class Placeholder { }
