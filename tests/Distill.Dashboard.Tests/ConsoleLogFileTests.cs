using System.Text;
using Distill.Dashboard.Resources;

namespace Distill.Dashboard.Tests;

public sealed class ConsoleLogFileTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("distill-console-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Reads_the_last_lines_of_a_log_larger_than_one_block_while_it_is_still_open_for_writing()
    {
        var path = Path.Combine(directory, "trainer.log");
        using var writer = new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read), Encoding.UTF8) { AutoFlush = true };
        for (int i = 0; i < 20_000; i++) writer.WriteLine($"step {i} reward=0.5 λ=0.1");
        writer.Write("step 20000 still being writ");

        var lines = ConsoleLogFile.ReadLastLines(path, 3);

        Assert.Equal(["step 19997 reward=0.5 λ=0.1", "step 19998 reward=0.5 λ=0.1", "step 19999 reward=0.5 λ=0.1"], lines);
    }

    [Fact]
    public void A_short_log_is_read_whole_and_a_missing_one_is_empty()
    {
        var path = Path.Combine(directory, "teacher.log");
        File.WriteAllText(path, "listening\r\nhealthy\n");

        Assert.Equal(["listening", "healthy"], ConsoleLogFile.ReadLastLines(path, 10));
        Assert.Empty(ConsoleLogFile.ReadLastLines(Path.Combine(directory, "evaluator.log"), 10));
    }
}
