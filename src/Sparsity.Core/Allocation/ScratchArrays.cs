using System.Buffers;

namespace Sparsity;

/// <summary>
/// Scratch arrays for the CPU selections: rented from the shared pool up to 4 M elements, so that repeated calls
/// neither allocate nor leave large-object-heap garbage behind, and allocated (uninitialised, not pooled) beyond,
/// so that the pool does not keep a rare full-size buffer alive.
/// </summary>
internal static class ScratchArrays
{
    private const int MaxPooled = 1 << 22;

    /// <summary>An array of at least <paramref name="length"/> elements (contents undefined).</summary>
    public static T[] Rent<T>(int length)
        where T : unmanaged => length <= MaxPooled ? ArrayPool<T>.Shared.Rent(length) : GC.AllocateUninitializedArray<T>(length);

    /// <summary>Gives back an array from <see cref="Rent{T}"/> (a pooled one goes back to the pool).</summary>
    public static void Return<T>(T[] array)
        where T : unmanaged
    {
        if (array.Length <= MaxPooled)
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }
}
