namespace Sparsity;

/// <summary>
/// The scores of one chunk of the CPU top-k's scan that fall between the brackets, with their positions inside the
/// layer, in order: a slice of the scan's shared arrays (<see cref="BandArena{T}"/>), moved to arrays of its own if it
/// outgrows the slice.
/// </summary>
internal sealed class Band<T>(T[] values, int[] positions, int start, int capacity)
{
    private T[] _values = values;
    private int[] _positions = positions;
    private int _start = start;
    private int _capacity = capacity;

    public int Count { get; private set; }

    public ArraySegment<T> Values => new(_values, _start, Count);

    public ArraySegment<int> Positions => new(_positions, _start, Count);

    public void Add(T value, int position)
    {
        if (Count == _capacity)
        {
            _capacity = Math.Max(16, 2 * Count);
            var moved = new T[_capacity];
            var movedPositions = new int[_capacity];
            Array.Copy(_values, _start, moved, 0, Count);
            Array.Copy(_positions, _start, movedPositions, 0, Count);
            (_values, _positions, _start) = (moved, movedPositions, 0);
        }

        _values[_start + Count] = value;
        _positions[_start + Count++] = position;
    }
}

/// <summary>
/// The arrays every chunk's band is a slice of (<see cref="ScratchArrays"/>: a band of 1–2 % of 25.6 M scores would
/// otherwise be megabytes of fresh arrays per call, promoted by the collections that run during it).
/// </summary>
internal sealed class BandArena<T> : IDisposable
    where T : unmanaged
{
    public BandArena(long total)
    {
        Values = ScratchArrays.Rent<T>((int)total);
        Positions = ScratchArrays.Rent<int>((int)total);
    }

    public T[] Values { get; }

    public int[] Positions { get; }

    public void Dispose()
    {
        ScratchArrays.Return(Values);
        ScratchArrays.Return(Positions);
    }
}
