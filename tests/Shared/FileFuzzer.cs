using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Sparsity.Tests.Fuzzing;

/// <summary>
/// Mutation testing of the library's file readers (shared by the test projects as a linked source file).
/// Each iteration applies one random corruption to a valid file and asserts that the reader either throws the
/// documented exception type or returns a result identical to the unmutated file's. The iteration count is
/// <see cref="DefaultIterations"/> per kind in the normal run and the value of the environment variable
/// <c>SPARSITY_FUZZ_ITERATIONS</c> when set (e.g. <c>SPARSITY_FUZZ_ITERATIONS=10000</c> for the full run);
/// <c>SPARSITY_FUZZ_REPORT=&lt;file&gt;</c> appends the counts of each run to that file.
/// </summary>
internal static class FileFuzzer
{
    public const string IterationsVariable = "SPARSITY_FUZZ_ITERATIONS";

    /// <summary>Iterations per kind in the default run (seconds of CPU).</summary>
    public const int DefaultIterations = 200;

    public static int Iterations => int.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), out var n) && n > 0 ? n : DefaultIterations;

    /// <summary>
    /// Runs <paramref name="iterations"/> mutations of <paramref name="original"/> through <paramref name="load"/>, which
    /// reads a file and returns a canonical description of everything it read. Returns (identical, rejected) counts;
    /// throws on a foreign exception type or a different result, naming the mutation.
    /// </summary>
    public static (int Identical, int Rejected) Run<TDocumented>(byte[] original, Func<byte[], Random, byte[]> mutate,
        Func<string, string> load, int iterations, int seed, string extension = ".safetensors", [CallerMemberName] string caller = "")
        where TDocumented : Exception
    {
        var (identical, _, rejected) = RunCounting<TDocumented>(original, mutate, load, iterations, seed, extension, differentAllowed: false, caller);
        return (identical, rejected);
    }

    /// <summary>
    /// As <see cref="Run{TDocumented}"/>, but for a format without an integrity check: a mutation that reads as a
    /// different (valid) result is counted instead of failing. Foreign exception types still fail.
    /// </summary>
    public static (int Identical, int Different, int Rejected) RunCounting<TDocumented>(byte[] original, Func<byte[], Random, byte[]> mutate,
        Func<string, string> load, int iterations, int seed, string extension, bool differentAllowed, [CallerMemberName] string caller = "")
        where TDocumented : Exception
    {
        var clock = Stopwatch.StartNew();
        var folder = Directory.CreateTempSubdirectory("sparsity-fuzz-").FullName;
        try
        {
            var path = Path.Combine(folder, "file" + extension);
            File.WriteAllBytes(path, original);
            var expected = load(path);
            var rng = new Random(seed);
            int identical = 0, different = 0, rejected = 0;
            for (int i = 0; i < iterations; i++)
            {
                var bytes = mutate(original, rng);
                File.WriteAllBytes(path, bytes);
                string got;
                try
                {
                    got = load(path);
                }
                catch (TDocumented)
                {
                    rejected++;
                    continue;
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"Mutation {i} (seed {seed}) escaped as {e.GetType().FullName}: {e.Message}", e);
                }

                if (got != expected && differentAllowed)
                {
                    different++;
                    continue;
                }

                if (got != expected)
                {
                    throw new InvalidOperationException($"Mutation {i} (seed {seed}) was read as a different result without an error.");
                }

                identical++;
            }

            // SPARSITY_FUZZ_REPORT=<file> appends one line per run (how the counts in docs/core.md were recorded).
            if (Environment.GetEnvironmentVariable("SPARSITY_FUZZ_REPORT") is { Length: > 0 } report)
            {
                File.AppendAllText(report,
                    $"{caller} seed={seed} mutations={iterations} identical={identical} different={different} rejected={rejected} seconds={clock.Elapsed.TotalSeconds:F0}{Environment.NewLine}");
            }

            return (identical, different, rejected);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>One random corruption of a safetensors file (bit flips, header characters, truncation, length prefix, numbers, dtypes, lone surrogates, inserted or deleted bytes).</summary>
    public static byte[] MutateSafeTensors(byte[] original, Random rng)
    {
        var bytes = (byte[])original.Clone();
        int headerEnd = (int)Math.Min(bytes.Length, 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        switch (rng.Next(9))
        {
            case 0: // flip 1–3 bits anywhere
                for (int i = rng.Next(1, 4); i > 0; i--)
                {
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return bytes;
            case 1: // overwrite a header byte with an interesting character
                bytes[rng.Next(8, headerEnd)] = (byte)"{}[]\",:0123456789-eE. a\\"[rng.Next(24)];
                return bytes;
            case 2: // truncate
                return bytes[..rng.Next(bytes.Length)];
            case 3: // rewrite the length prefix
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, rng.Next(3) switch
                {
                    0 => (ulong)rng.Next(bytes.Length + 16),
                    1 => (ulong)rng.NextInt64(),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(bytes) + (ulong)rng.Next(-3, 4),
                });
                return bytes;
            case 4: // edit a number in the header (JSON metadata included)
                return EditHeader(bytes, headerEnd, header =>
                {
                    var digits = Enumerable.Range(0, header.Length).Where(i => char.IsAsciiDigit(header[i])).ToList();
                    if (digits.Count == 0)
                    {
                        return header;
                    }

                    int at = digits[rng.Next(digits.Count)];
                    var replacement = rng.Next(5) switch { 0 => "9999999999999", 1 => "-1", 2 => rng.Next(10).ToString(), 3 => "1e400", _ => "18446744073709551616" };
                    return header[..at] + replacement + header[(at + 1)..];
                });
            case 5: // swap a dtype name
                return EditHeader(bytes, headerEnd, header =>
                {
                    string[] names = ["F64", "F32", "F16", "BF16", "I64", "I32", "U8", "BOOL", "I8"];
                    var from = names.FirstOrDefault(n => header.Contains($"\"{n}\"", StringComparison.Ordinal));
                    return from is null ? header : header.Replace($"\"{from}\"", $"\"{names[rng.Next(names.Length)]}\"");
                });
            case 6: // a lone UTF-16 surrogate escape inside a name or value
                return EditHeader(bytes, headerEnd, header =>
                {
                    var quotes = Enumerable.Range(0, header.Length).Where(i => header[i] == '"').ToList();
                    if (quotes.Count == 0)
                    {
                        return header;
                    }

                    int at = quotes[rng.Next(quotes.Count)] + 1;
                    return header[..at] + (rng.Next(2) == 0 ? "\\ud800" : "\\udfff") + header[at..];
                });
            case 7: // overwrite a run of 1–16 bytes with random values
            {
                int at = rng.Next(bytes.Length);
                int n = Math.Min(rng.Next(1, 17), bytes.Length - at);
                rng.NextBytes(bytes.AsSpan(at, n));
                return bytes;
            }

            default: // insert or delete a byte
            {
                int at = rng.Next(bytes.Length);
                return rng.Next(2) == 0
                    ? [.. bytes[..at], (byte)rng.Next(256), .. bytes[at..]]
                    : [.. bytes[..at], .. bytes[(at + 1)..]];
            }
        }
    }

    /// <summary>One random corruption of a UTF-8 JSON file (bit flips, characters, digits, truncation, lone surrogates, inserted or deleted bytes).</summary>
    public static byte[] MutateJson(byte[] original, Random rng)
    {
        var bytes = (byte[])original.Clone();
        var text = Encoding.UTF8.GetString(bytes);
        switch (rng.Next(7))
        {
            case 0:
                for (int i = rng.Next(1, 4); i > 0; i--)
                {
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return bytes;
            case 1:
                bytes[rng.Next(bytes.Length)] = (byte)"{}[]\",:0123456789-eE. anulltrue\\"[rng.Next(31)];
                return bytes;
            case 2:
                return bytes[..rng.Next(bytes.Length)];
            case 3:
            {
                var digits = Enumerable.Range(0, text.Length).Where(i => char.IsAsciiDigit(text[i])).ToList();
                if (digits.Count == 0)
                {
                    return bytes;
                }

                int at = digits[rng.Next(digits.Count)];
                var replacement = rng.Next(6) switch { 0 => "9999999999999", 1 => "-1", 2 => rng.Next(10).ToString(), 3 => "1e400", 4 => "null", _ => "99999999999999999999" };
                return Encoding.UTF8.GetBytes(text[..at] + replacement + text[(at + 1)..]);
            }

            case 4:
            {
                var quotes = Enumerable.Range(0, text.Length).Where(i => text[i] == '"').ToList();
                int at = quotes[rng.Next(quotes.Count)] + 1;
                return Encoding.UTF8.GetBytes(text[..at] + "\\ud800" + text[at..]);
            }

            case 5: // replace a value token by another JSON value
            {
                var colons = Enumerable.Range(0, text.Length).Where(i => text[i] == ':').ToList();
                int at = colons[rng.Next(colons.Count)] + 1;
                int end = at;
                while (end < text.Length && text[end] is not (',' or '}' or ']' or '\n'))
                {
                    end++;
                }

                string[] values = [" null", " []", " {}", " \"\"", " -5", " 0", " true", " [null]", " \"x\"", " 1.5"];
                return Encoding.UTF8.GetBytes(text[..at] + values[rng.Next(values.Length)] + text[end..]);
            }

            default:
            {
                int at = rng.Next(bytes.Length);
                return rng.Next(2) == 0
                    ? [.. bytes[..at], (byte)rng.Next(256), .. bytes[at..]]
                    : [.. bytes[..at], .. bytes[(at + 1)..]];
            }
        }
    }

    private static byte[] EditHeader(byte[] bytes, int headerEnd, Func<string, string> edit)
    {
        if (headerEnd <= 8)
        {
            return bytes;
        }

        var header = Encoding.UTF8.GetString(bytes, 8, headerEnd - 8);
        var edited = Encoding.UTF8.GetBytes(edit(header));
        var file = new byte[8 + edited.Length + (bytes.Length - headerEnd)];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)edited.Length);
        edited.CopyTo(file, 8);
        bytes.AsSpan(headerEnd).CopyTo(file.AsSpan(8 + edited.Length));
        return file;
    }
}
