namespace Sparsity.Core.Tests;

public sealed class NativeAllocatorTests
{
    [Fact]
    public void The_trim_threshold_is_set_through_glibc_on_linux_and_nowhere_else()
    {
        // On Linux the call binds to glibc's mallopt and succeeds (it returns false if the binding fails).
        NativeAllocator.ReleaseFreedMemoryEagerly().Should().Be(OperatingSystem.IsLinux());
    }
}
