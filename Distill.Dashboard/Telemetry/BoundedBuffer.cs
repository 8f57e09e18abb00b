namespace Distill.Dashboard.Telemetry;

/// <summary>A thread-safe first-in-first-out store that drops its oldest items once it holds <c>capacity</c>.</summary>
internal sealed class BoundedBuffer<T>(int capacity)
{
    private readonly Queue<T> items = new();
    private readonly Lock gate = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Adds a batch at once, so that a reader sees all of it or none of it.</summary>
    public void AddRange(IReadOnlyCollection<T> batch)
    {
        lock (gate)
        {
            foreach (var item in batch.Skip(Math.Max(0, batch.Count - Capacity)))
            {
                if (items.Count == Capacity) items.Dequeue();
                items.Enqueue(item);
            }
        }
    }

    /// <summary>A copy of what is held now, oldest first.</summary>
    public T[] Snapshot()
    {
        lock (gate) return items.ToArray();
    }
}
