using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sparsity.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification;

/// <summary>
/// Decides an ownership claim with a stated false-positive probability (docs/statistics.md#false-positives-of-a-signature; the paper leaves the
/// decision to a person decoding a QR image). Decision rule: read the credential's bits from the suspect, count
/// matches X, compute <c>p = P_null(X' ≥ X)</c> exactly (Core's <see cref="Binomial"/> / <see cref="Hypergeometric"/>),
/// adjust for the W places searched (<see cref="MultipleTesting.SidakAdjustLogP"/>), and verify iff the adjusted p ≤ α —
/// one rule for every scheme. The bits, positions, null model and W are all re-derived or counted here from the claim's
/// secret and the suspect (<see cref="OwnershipClaim.Derive"/>); nothing of them is read from the claim.
/// </summary>
public sealed class OwnershipVerifier
{
    private readonly ILogger<OwnershipVerifier> _logger;

    /// <summary>Creates a verifier.</summary>
    /// <param name="logger">Logger; none when null.</param>
    public OwnershipVerifier(ILogger<OwnershipVerifier>? logger = null) => _logger = logger ?? NullLogger<OwnershipVerifier>.Instance;

    /// <summary>Verifies a claim against a suspect's masks.</summary>
    /// <param name="suspect">The suspect's masks (must contain the signed layer with its shape, unless searching all windows).</param>
    /// <param name="claim">The owner's claim (secret, parameters, fingerprint).</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentException">The claim is invalid or does not match the published fingerprint, the suspect does not fit it, or an option is out of range.</exception>
    public OwnershipVerdict Verify(MaskSet suspect, OwnershipClaim claim, VerificationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(suspect);
        ArgumentNullException.ThrowIfNull(claim);
        options ??= new VerificationOptions();
        Validate(options);
        var credential = claim.Derive();
        if (options.PublishedFingerprint is { } published && !string.Equals(published, claim.ComputeFingerprint(), StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"The claim's fingerprint {claim.ComputeFingerprint()} is not the published fingerprint {published}: the claim is not the one committed to.", nameof(claim));
        }

        long tests = options.AdditionalTests;
        if (credential.Scheme == OwnershipClaim.QrScheme)
        {
            tests = checked(tests * QrWindows(suspect, credential));
        }

        OwnershipVerdict verdict;
        if (options.SearchAllWindows && credential.Row is { } row0 && credential.Column is { } col0)
        {
            verdict = SearchWindows(suspect, credential, tests, options, row0, col0);
        }
        else
        {
            var mask = SignatureReader.LayerOf(suspect, credential);
            var observed = SignatureReader.Read(mask, credential);
            int matches = Count(observed, credential.Bits);
            double logP = LogFalsePositive(credential, matches, suspect.KeptIn(credential.Layer), ChannelConnectivity.FromMask(mask));
            verdict = Decide(credential, credential.Layer, credential.Row, credential.Column, matches, logP, tests, options);
        }

        _logger.LogInformation(
            "Ownership check ({Scheme}, {Layer}): {Matches}/{Bits} bits match, log10 FPR {Log10Fpr:F2} under {Null} → {Verdict}",
            verdict.Scheme, verdict.Layer, verdict.Matches, verdict.Bits, verdict.Log10FalsePositive, verdict.NullDescription, verdict.Verified ? "verified" : "rejected");
        return verdict;
    }

    /// <summary>Verifies the claim of <paramref name="credential"/> (<see cref="SignatureCredential.Claim"/>); its bits are re-derived, not read.</summary>
    /// <param name="suspect">The suspect's masks.</param>
    /// <param name="credential">The owner's credential.</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentException">See <see cref="Verify(MaskSet, OwnershipClaim, VerificationOptions?)"/>.</exception>
    public OwnershipVerdict Verify(MaskSet suspect, SignatureCredential credential, VerificationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return Verify(suspect, credential.Claim, options);
    }

    /// <summary>Verifies a claim against a suspect model's weights (kept = weight ≠ 0), reading every prunable layer.</summary>
    /// <param name="model">The suspect model.</param>
    /// <param name="claim">The owner's claim.</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentException">The claim is invalid, or the model lacks the signed layer or its shape differs.</exception>
    public OwnershipVerdict Verify(nn.Module model, OwnershipClaim claim, VerificationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(claim);
        var names = new ParameterSelector(new ParameterSelectorOptions { KeepFirstLayerDense = false, KeepLastLayerDense = false, IncludeConv3d = true })
            .Select(model).Select(p => p.Name).ToList();
        if (!names.Contains(claim.Layer, StringComparer.Ordinal))
        {
            names.Add(claim.Layer); // MasksFromWeights names the missing layer in its exception
        }

        using var masks = SignatureReader.MasksFromWeights(model, names);
        return Verify(masks, claim, options);
    }

    /// <summary>Verifies the claim of <paramref name="credential"/> against a suspect model's weights.</summary>
    /// <param name="model">The suspect model.</param>
    /// <param name="credential">The owner's credential.</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentException">See <see cref="Verify(nn.Module, OwnershipClaim, VerificationOptions?)"/>.</exception>
    public OwnershipVerdict Verify(nn.Module model, SignatureCredential credential, VerificationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return Verify(model, credential.Claim, options);
    }

    /// <summary>
    /// ln P_null(X ≥ <paramref name="matches"/>) for one place, under the null the scheme implies: Bin(m, ½) (keyed,
    /// whitened); Hypergeom(n, k, m) with the suspect's kept count k (keyed, forced-on); for QR the larger of the occupancy
    /// tail sup_q P(Bin(m₁, q) + Bin(m₀, 1 − q) ≥ x) and the nearest-alternative tail
    /// sup_ε P(Bin(m − d, 1 − ε) + Bin(d, ε) ≥ x), d = <see cref="QrPattern.NearestAlternativeDistance"/> of the claim's message.
    /// </summary>
    /// <param name="credential">A credential derived from a claim (bit count, null model, layer size, message).</param>
    /// <param name="matches">Observed matches.</param>
    /// <param name="suspectKept">The suspect's kept weights in the signed layer (forced-on, weight granularity).</param>
    /// <param name="suspectChannels">The suspect's channel matrix of the signed layer (forced-on, channel granularity; occupancy start value).</param>
    public static double LogFalsePositive(SignatureCredential credential, int matches, long suspectKept, ChannelConnectivity suspectChannels)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(suspectChannels);
        int m = credential.Bits.Count;
        ArgumentOutOfRangeException.ThrowIfNegative(matches);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(matches, m);
        switch (credential.NullModel)
        {
            case SignatureNullModel.FairCoin:
                return Binomial.LogSurvival(m, 0.5, matches);
            case SignatureNullModel.ForcedOnHypergeometric:
            {
                bool cells = credential.Granularity == SignatureGranularity.ChannelPair;
                long n = cells ? credential.CellCount : credential.WeightCount;
                long k = cells ? suspectChannels.ConnectedPairs : suspectKept;
                var (lo, hi) = Hypergeometric.Support(n, k, m);
                return matches <= lo ? 0.0 : matches > hi ? double.NegativeInfinity : Hypergeometric.LogSurvival(n, k, m, matches);
            }

            default:
            {
                double occupancy = OccupancyLogSurvival(credential.ExpectedOn, m - credential.ExpectedOn, matches, suspectChannels.Density);
                int d = Math.Min(m, NearestDistance(credential));
                double alternative = OccupancyLogSurvival(m - d, d, matches);
                return Math.Max(occupancy, alternative);
            }
        }
    }

    /// <summary>
    /// sup over q ∈ (0, 1) of ln P(Bin(m₁, q) + Bin(m₀, 1 − q) ≥ x): the QR null with an unknown channel occupancy q
    /// (docs/statistics.md#false-positives-of-a-signature, item 3), by a grid of 99 values refined around the best one, plus <paramref name="hint"/>.
    /// </summary>
    /// <param name="expectedOn">m₁, bits that must be on.</param>
    /// <param name="expectedOff">m₀, bits that must be off.</param>
    /// <param name="atLeast">x, observed matches.</param>
    /// <param name="hint">An extra q to try (the suspect's own channel density).</param>
    public static double OccupancyLogSurvival(int expectedOn, int expectedOff, int atLeast, double hint = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedOn);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedOff);
        if (atLeast <= 0)
        {
            return 0.0;
        }

        if (atLeast > expectedOn + expectedOff)
        {
            return double.NegativeInfinity;
        }

        if (atLeast <= Math.Max(expectedOn, expectedOff))
        {
            return 0.0; // q → 1 (or 0) matches max(m₁, m₀) bits almost surely: the supremum is 1
        }

        var tail = new OccupancyTail(expectedOn, expectedOff);
        double best = double.NegativeInfinity;
        double bestQ = 0.5;
        void Try(double q)
        {
            if (!(q > 0 && q < 1))
            {
                return;
            }

            double v = tail.LogSurvival(atLeast, q);
            if (v > best)
            {
                best = v;
                bestQ = q;
            }
        }

        for (int i = 1; i < 100; i++)
        {
            Try(i / 100.0);
        }

        Try(hint);
        double center = bestQ;
        for (int i = -10; i <= 10; i++)
        {
            Try(center + (i / 1000.0));
        }

        return best;
    }

    /// <summary>ln P(Bin(m₁, q) + Bin(m₀, 1 − q) ≥ x) at one q, exact: Σₐ P(Bin(m₁, q) = a) · P(Bin(m₀, 1 − q) ≥ x − a).</summary>
    /// <param name="expectedOn">m₁.</param>
    /// <param name="expectedOff">m₀.</param>
    /// <param name="atLeast">x.</param>
    /// <param name="q">Occupancy in (0, 1).</param>
    public static double OccupancyLogSurvivalAt(int expectedOn, int expectedOff, int atLeast, double q)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedOn);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedOff);
        if (!(q > 0 && q < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, "The occupancy must lie in (0, 1).");
        }

        return new OccupancyTail(expectedOn, expectedOff).LogSurvival(atLeast, q);
    }

    /// <summary>
    /// P(Bin(m₁, q) + Bin(m₀, 1 − q) ≥ x) in O(m₁ + m₀) per q: the log binomial coefficients are computed once, then the
    /// pmf of the first term and the upper-tail sums of the second are built in log space and convolved at the single x.
    /// </summary>
    private sealed class OccupancyTail
    {
        private readonly int _on;
        private readonly int _off;
        private readonly double[] _chooseOn;
        private readonly double[] _chooseOff;
        private readonly double[] _tailOff;

        internal OccupancyTail(int on, int off)
        {
            _on = on;
            _off = off;
            _chooseOn = Enumerable.Range(0, on + 1).Select(a => SpecialFunctions.LogBinomialCoefficient(on, a)).ToArray();
            _chooseOff = Enumerable.Range(0, off + 1).Select(b => SpecialFunctions.LogBinomialCoefficient(off, b)).ToArray();
            _tailOff = new double[off + 2];
        }

        internal double LogSurvival(int atLeast, double q)
        {
            if (atLeast <= 0)
            {
                return 0.0;
            }

            if (atLeast > _on + _off)
            {
                return double.NegativeInfinity;
            }

            double lq = Math.Log(q), l1q = SpecialFunctions.Log1p(-q);

            // Second term ~ Bin(m₀, 1 − q): ln P(≥ b) for b = m₀ … 0.
            _tailOff[_off + 1] = double.NegativeInfinity;
            for (int b = _off; b >= 0; b--)
            {
                _tailOff[b] = SpecialFunctions.LogAddExp(_tailOff[b + 1], _chooseOff[b] + (b * l1q) + ((_off - b) * lq));
            }

            double acc = double.NegativeInfinity;
            for (int a = Math.Max(0, atLeast - _off); a <= _on; a++)
            {
                int rest = Math.Max(0, atLeast - a);
                acc = SpecialFunctions.LogAddExp(acc, _chooseOn[a] + (a * lq) + ((_on - a) * l1q) + _tailOff[rest]);
            }

            return Math.Min(0.0, acc);
        }
    }

    private static int Count(bool[] observed, IReadOnlyList<SignatureBit> bits)
    {
        int matches = 0;
        for (int i = 0; i < bits.Count; i++)
        {
            if (observed[i] == bits[i].Expected)
            {
                matches++;
            }
        }

        return matches;
    }

    private static OwnershipVerdict Decide(
        SignatureCredential credential, string layer, int? row, int? column, int matches, double logP, long tests, VerificationOptions options)
    {
        double adjusted = tests > 1 ? MultipleTesting.SidakAdjustLogP(Math.Min(0.0, logP), tests) : logP;
        double log10 = adjusted / SpecialFunctions.Ln10;
        double threshold = Math.Log10(options.FalsePositiveRate);
        int m = credential.Bits.Count;
        return new OwnershipVerdict(
            credential.Scheme, layer, row, column, m, matches, 1.0 - ((double)matches / m), log10, tests, threshold,
            log10 <= threshold, credential.NullModel, Describe(credential, tests));
    }

    private static string Describe(SignatureCredential credential, long tests)
    {
        int m = credential.Bits.Count;
        string places = tests > 1 ? $"; Šidák over {tests} tests" : "";
        return credential.NullModel switch
        {
            SignatureNullModel.FairCoin => $"Bin({m}, 1/2): whitened key bits{places}",
            SignatureNullModel.ForcedOnHypergeometric => $"Hypergeom(n, k_suspect, {m}): key positions uniform in the layer{places}",
            _ => $"QR data+EC modules (m = {m}): max of sup_q occupancy and sup_eps nearest alternative at distance d = {NearestDistance(credential)}{places}",
        };
    }

    private static int NearestDistance(SignatureCredential credential) =>
        QrPattern.Encode(credential.Claim.Message ?? throw new ArgumentException("A QR credential needs its claim's message.", nameof(credential))).NearestAlternativeDistance();

    /// <summary>Every 29×29 window of every suspect layer with the signed layer's rank (at least the claimed one).</summary>
    private static long QrWindows(MaskSet suspect, SignatureCredential credential)
    {
        int size = credential.PatternSize ?? QrPattern.Size;
        long windows = 0;
        foreach (var name in suspect.Names.Where(n => suspect[n].dim() == credential.LayerShape.Count))
        {
            var shape = suspect[name].shape;
            if (shape[0] >= size && shape[1] >= size)
            {
                windows += (shape[0] - size + 1) * (shape[1] - size + 1);
            }
        }

        return Math.Max(1, windows);
    }

    private static OwnershipVerdict SearchWindows(MaskSet suspect, SignatureCredential credential, long tests, VerificationOptions options, int row0, int col0)
    {
        int size = credential.PatternSize ?? throw new ArgumentException("The credential has no pattern size.", nameof(credential));
        long cols0 = credential.LayerShape[1];
        var relative = credential.Bits.Select(b => ((int)(b.Position / cols0) - row0, (int)(b.Position % cols0) - col0, b.Expected)).ToList();
        (string Layer, int Row, int Column, int Matches, ChannelConnectivity B)? best = null;
        foreach (var name in suspect.Names.Where(n => suspect[n].dim() == credential.LayerShape.Count))
        {
            var b = ChannelConnectivity.FromMask(suspect[name]);
            for (int r = 0; r + size <= b.Rows; r++)
            {
                for (int c = 0; c + size <= b.Columns; c++)
                {
                    int matches = relative.Count(t => b[r + t.Item1, c + t.Item2] == t.Expected);
                    if (best is null || matches > best.Value.Matches)
                    {
                        best = (name, r, c, matches, b);
                    }
                }
            }
        }

        if (best is not { } found)
        {
            throw new ArgumentException(
                $"The suspect has no layer of rank {credential.LayerShape.Count} with at least {size}×{size} channel pairs to search.", nameof(suspect));
        }

        double logP = LogFalsePositive(credential, found.Matches, suspect.KeptIn(found.Layer), found.B);
        return Decide(credential, found.Layer, found.Row, found.Column, found.Matches, logP, tests, options);
    }

    private static void Validate(VerificationOptions options)
    {
        if (!(options.FalsePositiveRate > 0 && options.FalsePositiveRate < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.FalsePositiveRate, "VerificationOptions.FalsePositiveRate must lie in (0, 1), for example 1e-9.");
        }

        if (options.AdditionalTests < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.AdditionalTests, "VerificationOptions.AdditionalTests must be ≥ 1.");
        }
    }
}
