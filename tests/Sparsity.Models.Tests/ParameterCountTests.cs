using TorchSharp;
using static Sparsity.Models.Tests.ModelInspection;

namespace Sparsity.Models.Tests;

[Collection(SequentialCollection.Name)]
public class ParameterCountTests
{
    // LeNet-300-100: (in·300 + 300) + (300·100 + 100) + (100·10 + 10).
    [Theory]
    [InlineData(1, 28, 266_610)]
    [InlineData(3, 32, 3072 * 300 + 300 + 30_100 + 1_010)]
    public void LeNet300100_matches_closed_form(int channels, int side, long expected)
    {
        using var model = new LeNet300100(channels, 10);
        model.InputFeatures.Should().Be(channels * side * side);
        ParameterCount(model).Should().Be(expected);
    }

    // LeNet-5: conv1 6·C·25 + 6, conv2 16·6·25 + 16 = 2,416, fc 400·120 + 120 + 120·84 + 84 + 84·10 + 10 = 59,134.
    [Theory]
    [InlineData(1, 61_706)]
    [InlineData(3, 62_006)]
    public void LeNet5_matches_closed_form(int channels, long expected)
    {
        using var model = new LeNet5(channels, 10);
        ParameterCount(model).Should().Be(expected);
        (6 * channels * 25 + 6 + 2_416 + 59_134).Should().Be((int)expected);
    }

    [Theory]
    [InlineData(11, 9_231_114)]
    [InlineData(16, 14_728_266)]
    [InlineData(19, 20_040_522)]
    public void Vgg_matches_known_cifar_counts(int depth, long expected)
    {
        using var model = new Vgg(depth, 3, 10);
        ParameterCount(model).Should().Be(expected);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    [InlineData(16)]
    [InlineData(19)]
    public void Vgg_one_channel_differs_only_in_the_first_convolution(int depth)
    {
        using var rgb = new Vgg(depth, 3, 10);
        using var gray = new Vgg(depth, 1, 10);
        // first conv weight is 64·C·3·3
        (ParameterCount(rgb) - ParameterCount(gray)).Should().Be(64 * 2 * 9);
    }

    // CIFAR ResNet 6n+2 with option A, 3 channels, 10 classes:
    // stem 432 + 32, stage 1 n·4,672, stage 2 13,952 + (n−1)·18,560, stage 3 55,552 + (n−1)·73,984, fc 650.
    [Theory]
    [InlineData(20, 269_722)]
    [InlineData(32, 464_154)]
    [InlineData(56, 853_018)]
    public void CifarResNet_option_A_matches_known_counts(int depth, long expected)
    {
        var n = (depth - 2) / 6;
        var closedForm = 432 + 32 + n * 4_672L + 13_952 + (n - 1) * 18_560L + 55_552 + (n - 1) * 73_984L + 650;
        closedForm.Should().Be(expected);

        using var rgb = new CifarResNet(depth, 3, 10);
        ParameterCount(rgb).Should().Be(expected);
        using var gray = new CifarResNet(depth, 1, 10);
        ParameterCount(gray).Should().Be(expected - 2 * 16 * 9); // conv1 is 16·C·3·3
    }

    [Theory]
    [InlineData(20)]
    [InlineData(32)]
    [InlineData(56)]
    public void CifarResNet_option_B_adds_two_projections(int depth)
    {
        using var a = new CifarResNet(depth, 3, 10, ResNetShortcut.ZeroPadIdentity);
        using var b = new CifarResNet(depth, 3, 10, ResNetShortcut.Projection);
        // 1×1 conv 16→32 (512) + BN (64), 1×1 conv 32→64 (2,048) + BN (128)
        (ParameterCount(b) - ParameterCount(a)).Should().Be(512 + 64 + 2_048 + 128).And.Be(2_752);
        b.Shortcut.Should().Be(ResNetShortcut.Projection);
        a.Shortcut.Should().Be(ResNetShortcut.ZeroPadIdentity);
    }

    [Fact]
    public void ResNet20_is_about_a_quarter_million()
    {
        using var model = ReferenceModels.Create("resnet20", 3, 10);
        ParameterCount(model).Should().BeInRange(265_000, 275_000);
    }

    [Theory]
    [InlineData(18, 11_689_512, 60)]
    [InlineData(50, 25_557_032, 159)]
    public void Torchvision_ResNet_matches_torchvision_counts(int depth, long expected, int bufferCount)
    {
        using var model = new ResNet(depth, 3, 1000);
        ParameterCount(model).Should().Be(expected);
        model.buffers().Count().Should().Be(bufferCount);
    }

    [Fact]
    public void Torchvision_ResNet18_with_one_channel_and_ten_classes()
    {
        using var model = new ResNet(18, 1, 10);
        // conv1 loses 64·2·7·7 weights; fc shrinks from 512·1000 + 1000 to 512·10 + 10
        ParameterCount(model).Should().Be(11_689_512 - 64 * 2 * 49 - (513_000 - 5_130));
    }
}
