using System.Runtime.InteropServices;

namespace Sparsity;

/// <summary>
/// The native allocator under libtorch's CPU tensors. With its defaults, glibc's malloc raises its mmap threshold
/// after a large block is freed, so tensor-sized blocks (a LeNet-300-100 gradient is 0.9 MiB) are then served from
/// the heap, and freed space inside the heap is not given back: resident memory of a long search grows step after
/// step although nothing leaks (docs/core.md, "Resident memory"). <see cref="ReleaseFreedMemoryEagerly"/> trades
/// speed for flatter resident memory; it changes the whole process, so applications opt in.
/// </summary>
public static class NativeAllocator
{
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD in glibc's malloc.h

    /// <summary>
    /// Sets glibc's trim threshold to 0 (<c>mallopt(M_TRIM_THRESHOLD, 0)</c>): free memory at the top of the heap is
    /// returned at once, and, as glibc documents for any explicit threshold, the dynamic mmap threshold is switched off
    /// (blocks of 128 KiB and more get their own mappings, returned when freed). A trade: in the soak benchmark
    /// (docs/core.md, "Resident memory") 1,000 LeNet-300-100 search steps grew resident memory by 41 MiB instead of
    /// 364 MiB in the same time, but 200 ResNet-20 steps, whose activations are mapped and faulted in anew at every
    /// step, took 2.5× as long. Call once, early, where memory matters more than speed.
    /// </summary>
    /// <returns>Whether the setting was applied (false off Linux, or with a C library without <c>mallopt</c>).</returns>
    public static bool ReleaseFreedMemoryEagerly()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return MallOpt(TrimThreshold, 0) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallOpt(int parameter, int value);
}
