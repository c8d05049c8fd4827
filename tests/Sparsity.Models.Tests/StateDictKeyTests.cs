using TorchSharp;
using static Sparsity.Models.Tests.ModelInspection;

namespace Sparsity.Models.Tests;

[Collection(SequentialCollection.Name)]
public class StateDictKeyTests
{
    [Theory]
    [InlineData(18, "resnet18_keys.txt", 122, 62)]
    [InlineData(50, "resnet50_keys.txt", 320, 161)]
    public void Torchvision_ResNet_keys_match_torchvision_name_by_name(int depth, string fixture, int keyCount, int parameterCount)
    {
        var expected = ReadFixture(fixture);
        expected.Should().HaveCount(keyCount);
        expected.Count(e => e.Kind == "parameter").Should().Be(parameterCount);

        using var model = new ResNet(depth, 3, 1000);

        // PyTorch's state_dict order (module by module), parameters and buffers, with their kinds.
        TorchOrderKeys(model).Should().Equal(expected);

        // named_parameters / named_buffers are each in torchvision's order.
        model.named_parameters().Select(p => p.name).Should()
            .Equal(expected.Where(e => e.Kind == "parameter").Select(e => e.Key));
        model.named_buffers().Select(b => b.name).Should()
            .Equal(expected.Where(e => e.Kind == "buffer").Select(e => e.Key));

        // TorchSharp's state_dict lists every parameter, then every buffer: same keys, nothing extra.
        model.state_dict().Keys.Should().Equal(
            expected.Where(e => e.Kind == "parameter").Concat(expected.Where(e => e.Kind == "buffer")).Select(e => e.Key));
    }

    [Fact]
    public void Torchvision_ResNet_shapes_follow_torchvision()
    {
        using var model = new ResNet(50, 3, 1000);
        var sd = model.state_dict();
        sd["conv1.weight"].shape.Should().Equal(64, 3, 7, 7);
        sd["layer1.0.conv1.weight"].shape.Should().Equal(64, 64, 1, 1);
        sd["layer1.0.conv3.weight"].shape.Should().Equal(256, 64, 1, 1);
        sd["layer1.0.downsample.0.weight"].shape.Should().Equal(256, 64, 1, 1);
        sd["layer2.0.conv2.weight"].shape.Should().Equal(128, 128, 3, 3);
        sd["layer4.2.bn3.running_var"].shape.Should().Equal(2048);
        sd["layer4.2.bn3.num_batches_tracked"].shape.Should().BeEmpty();
        sd["fc.weight"].shape.Should().Equal(1000, 2048);
    }

    [Fact]
    public void LeNet_keys()
    {
        using var mlp = new LeNet300100(1, 10);
        mlp.state_dict().Keys.Should().Equal("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias");
        mlp.state_dict()["fc1.weight"].shape.Should().Equal(300, 784);

        using var conv = new LeNet5(1, 10);
        conv.state_dict().Keys.Should().Equal(
            "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
            "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias");
        conv.state_dict()["conv1.weight"].shape.Should().Equal(6, 1, 5, 5);
        conv.state_dict()["fc1.weight"].shape.Should().Equal(120, 400);
    }

    [Fact]
    public void Vgg16_keys_follow_torchvision_make_layers()
    {
        using var model = new Vgg(16, 3, 10);
        // torchvision vgg16_bn: conv at 0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40; BN right after each conv.
        int[] convIndices = [0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40];
        var expected = convIndices.SelectMany(i => new[] { $"features.{i}.weight", $"features.{i}.bias", $"features.{i + 1}.weight", $"features.{i + 1}.bias" })
            .Concat(["classifier.weight", "classifier.bias"]);
        model.named_parameters().Select(p => p.name).Should().Equal(expected);
        model.named_buffers().Select(b => b.name).Should().Equal(
            convIndices.SelectMany(i => new[] { $"features.{i + 1}.running_mean", $"features.{i + 1}.running_var", $"features.{i + 1}.num_batches_tracked" }));
        model.state_dict()["features.40.weight"].shape.Should().Equal(512, 512, 3, 3);
        model.state_dict()["classifier.weight"].shape.Should().Equal(10, 512);
    }

    [Fact]
    public void CifarResNet20_keys()
    {
        using var a = new CifarResNet(20, 3, 10);
        var keysA = TorchOrderKeys(a).Select(k => k.Key).ToList();
        keysA.Take(7).Should().Equal(
            "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "layer1.0.conv1.weight");
        keysA.TakeLast(2).Should().Equal("fc.weight", "fc.bias");
        keysA.Should().Contain(["layer1.0.bn2.num_batches_tracked", "layer2.0.conv1.weight", "layer3.2.conv2.weight"]);
        keysA.Should().NotContain(k => k.Contains("shortcut") || k.StartsWith("layer4"));
        // 19 convolution weights (stem + 9 blocks × 2), 19 batch norms × (weight, bias), fc weight and bias
        a.named_parameters().Count().Should().Be(19 + 19 * 2 + 2);

        using var b = new CifarResNet(20, 3, 10, ResNetShortcut.Projection);
        var keysB = TorchOrderKeys(b).Select(k => k.Key).ToList();
        keysB.Where(k => k.Contains("shortcut")).Should().Equal(
            "layer2.0.shortcut.0.weight",
            "layer2.0.shortcut.1.weight", "layer2.0.shortcut.1.bias",
            "layer2.0.shortcut.1.running_mean", "layer2.0.shortcut.1.running_var", "layer2.0.shortcut.1.num_batches_tracked",
            "layer3.0.shortcut.0.weight",
            "layer3.0.shortcut.1.weight", "layer3.0.shortcut.1.bias",
            "layer3.0.shortcut.1.running_mean", "layer3.0.shortcut.1.running_var", "layer3.0.shortcut.1.num_batches_tracked");
        b.state_dict()["layer3.0.shortcut.0.weight"].shape.Should().Equal(64, 32, 1, 1);
    }
}
