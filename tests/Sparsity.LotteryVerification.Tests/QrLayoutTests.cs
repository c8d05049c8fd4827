namespace Sparsity.LotteryVerification.Tests;

/// <summary>The QR module layout against the standard's table and against QRCoder's symbols.</summary>
public sealed class QrLayoutTests
{
    [Theory]
    [InlineData(1, 208)]
    [InlineData(2, 359)]
    [InlineData(3, 567)]
    [InlineData(4, 807)]
    [InlineData(5, 1079)]
    [InlineData(6, 1383)]
    [InlineData(7, 1568)]
    [InlineData(8, 1936)]
    [InlineData(9, 2336)]
    [InlineData(10, 2768)]
    public void DataAndErrorCorrectionModulesMatchIsoTable1(int version, int dataModules)
    {
        // ISO/IEC 18004:2015 Table 1, column "data modules except (C)" (codewords × 8 + remainder bits).
        var info = QrLayout.InformationModules(version);
        info.Should().HaveCount(QrLayout.SizeOf(version) * QrLayout.SizeOf(version));
        info.Count(x => x).Should().Be(dataModules);
    }

    [Fact]
    public void FunctionModulesAreTheSameInEverySymbolExceptFormatInformation()
    {
        // Every version-3 symbol QRCoder makes has identical finder, separator, timing, alignment and dark modules;
        // format information (row 8 / column 8 next to the finders) depends on the mask pattern chosen.
        var info = QrLayout.InformationModules(3);
        bool IsFormat(int r, int c) => ((r == 8 && (c <= 8 || c >= 21)) || (c == 8 && (r <= 8 || r >= 22))) && r != 6 && c != 6;
        var messages = new[] { "signature", "thief", "a", "si&nature", "Ownership of model #7", "0123456789", "ÄÖÜ" };
        var symbols = messages.Select(QrPattern.Encode).ToList();
        int fixedCells = 0;
        for (int r = 0; r < 29; r++)
        {
            for (int c = 0; c < 29; c++)
            {
                if (info[(r * 29) + c] || IsFormat(r, c))
                {
                    continue;
                }

                fixedCells++;
                symbols.Select(s => s.IsLight(r, c)).Distinct().Should().ContainSingle($"module ({r}, {c}) is a function pattern");
            }
        }

        fixedCells.Should().Be(841 - 567 - 30);

        // And most information modules do differ across the seven messages.
        int varying = Enumerable.Range(0, 841).Count(i => info[i] && symbols.Select(s => s.IsLight(i / 29, i % 29)).Distinct().Count() > 1);
        varying.Should().BeGreaterThan(400);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void VersionsOutsideTheTableAreRejected(int version)
    {
        var act = () => QrLayout.InformationModules(version);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("version");
    }
}
