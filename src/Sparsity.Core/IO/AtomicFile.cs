using System.Diagnostics;

namespace Sparsity.IO;

/// <summary>
/// Writes a file under a temporary name in the same folder, then renames it into place. The temporary name
/// is <c>.&lt;file&gt;.&lt;process id&gt;.&lt;guid&gt;.tmp</c>; before each write, temporary files of the same
/// target left behind by a process that no longer runs (a killed write) are deleted.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Suffix of the previous generation kept by <c>keepPrevious</c>.</summary>
    public const string PreviousSuffix = ".prev";

    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file and moves it to <paramref name="path"/>. With
    /// <paramref name="keepPrevious"/>, an existing <paramref name="path"/> is first renamed to
    /// <c>path + ".prev"</c> (replacing an older one), so that one good generation survives a corrupt newest.
    /// </summary>
    public static void Write(string path, Action<FileStream> write, bool keepPrevious = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        DeleteStaleTemporaries(folder, Path.GetFileName(full));
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            if (keepPrevious && File.Exists(full))
            {
                File.Move(full, full + PreviousSuffix, overwrite: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Deletes <c>.&lt;fileName&gt;.*.tmp</c> files in <paramref name="folder"/> whose writer process is gone
    /// (or that carry no process id, as written by older versions). Returns how many were deleted.
    /// </summary>
    internal static int DeleteStaleTemporaries(string folder, string fileName)
    {
        int deleted = 0;
        string prefix = "." + fileName + ".";
        foreach (var file in Directory.EnumerateFiles(folder, "." + fileName + ".*.tmp"))
        {
            var middle = Path.GetFileName(file)[prefix.Length..^".tmp".Length];
            var parts = middle.Split('.');
            bool stale = parts.Length switch
            {
                1 => Guid.TryParseExact(parts[0], "N", out _), // older writer without a process id
                2 => Guid.TryParseExact(parts[1], "N", out _) && int.TryParse(parts[0], out var pid) && !IsRunning(pid),
                _ => false,
            };
            if (!stale)
            {
                continue;
            }

            try
            {
                File.Delete(file);
                deleted++;
            }
            catch (IOException)
            {
                // Another process removed or holds it; it is not ours to insist on.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return deleted;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true; // a concurrent write of this process
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
