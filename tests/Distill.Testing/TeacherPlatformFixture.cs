namespace Distill.Testing;

/// <summary>
/// The default models, a real redis-server and the real teacher service (torch backend, default teacher) on Kestrel:
/// what a trainer or evaluator talks to in the running platform.
/// </summary>
public sealed class TeacherPlatformFixture : IAsyncLifetime
{
    public DefaultModelsFixture Models { get; } = new();

    public RedisServerFixture Redis { get; } = new();

    public TeacherHost Teacher { get; private set; } = null!;

    public Uri TeacherUrl => Teacher.Address;

    public async Task InitializeAsync()
    {
        await Models.InitializeAsync();
        await Redis.InitializeAsync();
        Teacher = TeacherHost.Start(TeacherHost.Settings(Models.Teacher, Redis));
        await Teacher.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await Teacher.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
