namespace Distill.Testing;

/// <summary>
/// A test class that owns a tiny real teacher (the char tokenizer's 64 symbols, a short context) served by the real
/// service on Kestrel, started before its tests and stopped after; <see cref="Configure"/> adjusts the service's settings.
/// </summary>
public abstract class TinyTeacherHostTest(int maxContext = 16) : IAsyncLifetime
{
    protected TeacherCheckpoint Checkpoint { get; } = new(maxContext: maxContext);

    protected TeacherHost Host { get; private set; } = null!;

    /// <summary>Changes the teacher service's configuration (limits, backend) before it starts.</summary>
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    public async Task InitializeAsync()
    {
        var settings = TeacherHost.Settings(Checkpoint.Directory);
        Configure(settings);
        Host = TeacherHost.Start(settings);
        await Host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Checkpoint.Dispose();
    }
}
