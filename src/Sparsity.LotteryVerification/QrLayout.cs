namespace Sparsity.LotteryVerification;

/// <summary>
/// The module layout of a QR symbol (ISO/IEC 18004:2015 §6.3, Figures 2–3, Annex E): which modules are function
/// patterns (finder patterns with their separators, timing patterns, alignment patterns, format information, the dark
/// module, version information) and which carry data and error-correction codewords. Only the latter depend on the
/// message; the verifier compares those alone (<see cref="QrPattern.IsPayload"/>).
/// </summary>
public static class QrLayout
{
    /// <summary>Highest version supported here (alignment-pattern centres of ISO/IEC 18004 Annex E, Table E.1, up to version 10).</summary>
    public const int MaxVersion = 10;

    // ISO/IEC 18004 Annex E, Table E.1: row/column coordinates of the alignment-pattern centres, versions 2–10.
    private static readonly int[][] AlignmentCentres =
    [
        [], [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
    ];

    /// <summary>Modules per side of a version-<paramref name="version"/> symbol: 17 + 4·version.</summary>
    /// <param name="version">Version in [1, <see cref="MaxVersion"/>].</param>
    public static int SizeOf(int version) => 17 + (4 * CheckVersion(version));

    /// <summary>
    /// Row-major mask of the data and error-correction modules (including the remainder bits) of a symbol of
    /// <paramref name="version"/>: true where a codeword bit is placed. Its count equals ISO/IEC 18004 Table 1,
    /// "data modules except (C)": 208, 359, 567, 807, 1 079, 1 383, 1 568, 1 936, 2 336, 2 768 for versions 1–10.
    /// </summary>
    /// <param name="version">Version in [1, <see cref="MaxVersion"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException">The version is outside [1, <see cref="MaxVersion"/>].</exception>
    public static bool[] InformationModules(int version)
    {
        int n = SizeOf(version);
        var function = new bool[n * n];
        void Mark(int r0, int c0, int rows, int cols)
        {
            for (int r = r0; r < r0 + rows; r++)
            {
                for (int c = c0; c < c0 + cols; c++)
                {
                    function[(r * n) + c] = true;
                }
            }
        }

        // Finder patterns (7×7) with their one-module separators: three 8×8 corners.
        Mark(0, 0, 8, 8);
        Mark(0, n - 8, 8, 8);
        Mark(n - 8, 0, 8, 8);

        // Timing patterns: row 6 and column 6 between the separators.
        Mark(6, 8, 1, n - 16);
        Mark(8, 6, n - 16, 1);

        // Alignment patterns (5×5) at every pair of centres except the three that overlap finder patterns.
        var centres = AlignmentCentres[version];
        foreach (var r in centres)
        {
            foreach (var c in centres)
            {
                bool finder = (r == 6 && c == 6) || (r == 6 && c == centres[^1]) || (r == centres[^1] && c == 6);
                if (!finder)
                {
                    Mark(r - 2, c - 2, 5, 5);
                }
            }
        }

        // Format information (2 × 15 modules) and the dark module at (4·version + 9, 8) = (n − 8, 8).
        Mark(8, 0, 1, 9);
        Mark(0, 8, 9, 1);
        Mark(8, n - 8, 1, 8);
        Mark(n - 8, 8, 8, 1);

        // Version information (versions ≥ 7): two 6×3 blocks.
        if (version >= 7)
        {
            Mark(0, n - 11, 6, 3);
            Mark(n - 11, 0, 3, 6);
        }

        return function.Select(f => !f).ToArray();
    }

    private static int CheckVersion(int version) =>
        version is >= 1 and <= MaxVersion
            ? version
            : throw new ArgumentOutOfRangeException(nameof(version), version, $"QR version must lie in [1, {MaxVersion}].");
}
