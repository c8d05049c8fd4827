namespace Sparsity;

/// <summary>
/// A file read by Sparsity (safetensors, IDX, checkpoint) is truncated, corrupt or not what it claims to
/// be. Readers throw only this exception for bad file content; the message names the file and the fault.
/// </summary>
public sealed class SparsityFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file (or stream description) that was read.</param>
    /// <param name="message">What is wrong with it.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public SparsityFormatException(string path, string message, Exception? inner = null)
        : base($"{path}: {message}", inner)
    {
        FilePath = path;
    }

    /// <summary>The file (or stream description) that was read.</summary>
    public string FilePath { get; }
}
