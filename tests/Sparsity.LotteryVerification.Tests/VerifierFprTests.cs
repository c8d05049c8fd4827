using System.Numerics;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification.Tests;

/// <summary>The verifier's false-positive figures against exact values computed here with BigInteger arithmetic.</summary>
public sealed class VerifierFprTests
{
    private static readonly OwnerKey Key = OwnerKey.FromPassphrase("fpr");

    private static SignatureCredential Credential(int bits, long[] shape, KeyedTargetMode mode) =>
        OwnershipClaim.ForKey(Key, "l.weight", shape, SignatureGranularity.Weight, mode, bits).Derive();

    /// <summary>A suspect whose first <paramref name="matches"/> signature bits match and the rest do not; other positions from <paramref name="rest"/>.</summary>
    private static MaskSet Suspect(long[] shape, SignatureCredential cred, int matches, Func<long, bool> rest)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var values = new bool[n];
        var bitAt = new Dictionary<long, int>();
        for (int i = 0; i < cred.Bits.Count; i++)
        {
            bitAt[cred.Bits[i].Position] = i;
        }

        long free = 0;
        for (long p = 0; p < n; p++)
        {
            values[p] = bitAt.TryGetValue(p, out int i) ? (i < matches ? cred.Bits[i].Expected : !cred.Bits[i].Expected) : rest(free++);
        }

        return TestMasks.Set(("l.weight", tensor(values, ScalarType.Bool).reshape(shape)));
    }

    [Theory]
    [InlineData(40)]
    [InlineData(35)]
    [InlineData(28)]
    [InlineData(20)]
    [InlineData(0)]
    public void FairCoinFprIsTheExactBinomialTail(int matches)
    {
        const int m = 40;
        var cred = Credential(m, [16, 10], KeyedTargetMode.Whitened);
        using var suspect = Suspect([16, 10], cred, matches, _ => false);
        var verdict = new OwnershipVerifier().Verify(suspect, cred);
        verdict.NullModel.Should().Be(SignatureNullModel.FairCoin);
        verdict.NullDescription.Should().StartWith("Bin(40, 1/2)");
        verdict.Matches.Should().Be(matches);
        verdict.BitErrorRate.Should().BeApproximately(1 - (matches / 40.0), 1e-15);

        BigInteger tail = 0;
        for (int k = matches; k <= m; k++)
        {
            tail += TestMasks.Choose(m, k);
        }

        double exact = TestMasks.Log10(tail, BigInteger.Pow(2, m));
        verdict.Log10FalsePositive.Should().BeApproximately(exact, 1e-9);
        verdict.Verified.Should().Be(exact <= -9);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(6)]
    [InlineData(3)]
    public void ForcedOnFprIsTheExactHypergeometricTail(int matches)
    {
        // n = 100 positions, m = 10 forced-on bits, the suspect keeps k = 20 positions, `matches` of them on the bits.
        var cred = Credential(10, [10, 10], KeyedTargetMode.ForcedOn);
        using var suspect = Suspect([10, 10], cred, matches, free => free < 20 - matches);
        suspect.KeptIn("l.weight").Should().Be(20);
        var verdict = new OwnershipVerifier().Verify(suspect, cred);
        verdict.NullModel.Should().Be(SignatureNullModel.ForcedOnHypergeometric);
        verdict.Matches.Should().Be(matches);

        BigInteger tail = 0;
        for (int j = matches; j <= 10; j++)
        {
            tail += TestMasks.Choose(20, j) * TestMasks.Choose(80, 10 - j);
        }

        double exact = TestMasks.Log10(tail, TestMasks.Choose(100, 10));
        verdict.Log10FalsePositive.Should().BeApproximately(exact, 1e-9);
    }

    [Fact]
    public void AdditionalTestsApplyTheSidakCorrection()
    {
        const int m = 40, matches = 28, w = 1000;
        var cred = Credential(m, [16, 10], KeyedTargetMode.Whitened);
        using var suspect = Suspect([16, 10], cred, matches, _ => true);
        var verdict = new OwnershipVerifier().Verify(suspect, cred, new VerificationOptions { AdditionalTests = w, FalsePositiveRate = 0.5 });
        BigInteger tail = 0;
        for (int k = matches; k <= m; k++)
        {
            tail += TestMasks.Choose(m, k);
        }

        double p = (double)tail / Math.Pow(2, m);
        double familywise = 1 - Math.Pow(1 - p, w);
        verdict.PlacesSearched.Should().Be(w);
        verdict.Log10FalsePositive.Should().BeApproximately(Math.Log10(familywise), 1e-9);
        verdict.Verified.Should().Be(familywise <= 0.5);
    }

    [Fact]
    public void OccupancyTailAtOneQMatchesBruteForce()
    {
        const int on = 3, off = 2;
        foreach (var q in new[] { 0.1, 0.3, 0.5, 0.85 })
        {
            for (int x = 0; x <= 5; x++)
            {
                double brute = 0;
                for (int outcome = 0; outcome < 32; outcome++)
                {
                    double prob = 1;
                    int match = 0;
                    for (int bit = 0; bit < 5; bit++)
                    {
                        bool cellOn = ((outcome >> bit) & 1) == 1;
                        prob *= cellOn ? q : 1 - q;
                        bool expected = bit < on;
                        match += cellOn == expected ? 1 : 0;
                    }

                    if (match >= x)
                    {
                        brute += prob;
                    }
                }

                Math.Exp(OwnershipVerifier.OccupancyLogSurvivalAt(on, off, x, q)).Should().BeApproximately(brute, 1e-12, $"q = {q}, x = {x}");
            }
        }
    }

    [Fact]
    public void OccupancyNullTakesTheWorstQ()
    {
        double sup = OwnershipVerifier.OccupancyLogSurvival(278, 273, 400);
        foreach (var q in new[] { 0.05, 0.2, 0.5, 0.7, 0.95 })
        {
            sup.Should().BeGreaterThanOrEqualTo(OwnershipVerifier.OccupancyLogSurvivalAt(278, 273, 400, q));
        }

        sup.Should().BeLessThan(0);
        OwnershipVerifier.OccupancyLogSurvival(278, 273, 0).Should().Be(0);
        OwnershipVerifier.OccupancyLogSurvival(278, 273, 552).Should().Be(double.NegativeInfinity);
    }

    [Fact]
    public void VerificationOptionsAreValidated()
    {
        var cred = Credential(40, [16, 10], KeyedTargetMode.Whitened);
        using var suspect = Suspect([16, 10], cred, 40, _ => true);
        var act = () => new OwnershipVerifier().Verify(suspect, cred, new VerificationOptions { FalsePositiveRate = 0 });
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*FalsePositiveRate*");
        var act2 = () => new OwnershipVerifier().Verify(suspect, cred, new VerificationOptions { AdditionalTests = 0 });
        act2.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*AdditionalTests*");
    }
}
