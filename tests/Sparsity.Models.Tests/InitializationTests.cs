using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Models.Tests;

[Collection(SequentialCollection.Name)]
public class InitializationTests
{
    [Fact]
    public void Torchvision_ResNet_convolutions_are_kaiming_normal_fan_out()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(11);
        using var model = new ResNet(18, 3, 10);
        var sd = model.state_dict();
        // layer2.0.conv1: 128×64×3×3, fan_in 576, fan_out 1152 → std √(2/1152); fan_in would give √(2/576).
        var w = sd["layer2.0.conv1.weight"];
        var expectedStd = Math.Sqrt(2.0 / (128 * 9));
        w.std().item<float>().Should().BeApproximately((float)expectedStd, (float)(0.02 * expectedStd));
        Math.Abs(w.mean().item<float>()).Should().BeLessThan((float)(0.02 * expectedStd));
        // A normal, not a uniform: some weights lie beyond √3·std, where a uniform of that std ends.
        w.abs().max().item<float>().Should().BeGreaterThan((float)(Math.Sqrt(3) * expectedStd));

        foreach (var (name, tensor) in sd.Where(kv => kv.Key.EndsWith("weight") && (kv.Key.Contains("bn") || kv.Key.Contains("downsample.1"))))
            tensor.eq(1).all().item<bool>().Should().BeTrue(because: $"{name} starts at 1");
        foreach (var (name, tensor) in sd.Where(kv => kv.Key.EndsWith("bias") && kv.Key != "fc.bias"))
            tensor.eq(0).all().item<bool>().Should().BeTrue(because: $"{name} starts at 0");
    }

    [Fact]
    public void Other_models_keep_pytorch_default_init()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(12);
        using var model = new CifarResNet(20, 3, 10);
        // PyTorch default for Conv2d: kaiming_uniform(a = √5) → U(−1/√fan_in, 1/√fan_in).
        var w = model.state_dict()["layer3.1.conv1.weight"];
        var bound = 1.0 / Math.Sqrt(64 * 9);
        w.abs().max().item<float>().Should().BeLessThanOrEqualTo((float)bound);
        w.abs().max().item<float>().Should().BeGreaterThan((float)(0.95 * bound));
    }

    [Fact]
    public void Same_seed_gives_same_weights()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(13);
        using var first = new CifarResNet(20, 3, 10);
        torch.manual_seed(13);
        using var second = new CifarResNet(20, 3, 10);
        var a = first.state_dict();
        var b = second.state_dict();
        foreach (var key in a.Keys)
            a[key].eq(b[key]).all().item<bool>().Should().BeTrue(because: key);
    }
}
