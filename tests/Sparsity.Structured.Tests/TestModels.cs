using Sparsity.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured.Tests;

/// <summary>Small models for the tests, with trained-looking (non-default) BatchNorm statistics.</summary>
internal static class TestModels
{
    /// <summary>A reference model with random BatchNorm affine parameters and running statistics, in eval mode.</summary>
    internal static nn.Module<Tensor, Tensor> Create(string name, int inputChannels = 3, int classes = 10, ResNetShortcut? shortcut = null, int seed = 0)
    {
        manual_seed(seed);
        nn.Module<Tensor, Tensor> model = (name, shortcut) switch
        {
            (_, { } s) => new CifarResNet(20, inputChannels, classes, s),
            ("torchvision-resnet18", _) => torchvision.models.resnet18(num_classes: classes),          // TorchVision 0.107 package
            ("torchvision-mobilenet_v2", _) => torchvision.models.mobilenet_v2(num_classes: classes),
            _ => ReferenceModels.Create(name, inputChannels, classes),
        };
        Randomize(model, seed);
        model.eval();
        return model;
    }

    internal static void Randomize(nn.Module model, int seed)
    {
        using var g = new Generator((ulong)seed + 100);
        using var noGrad = no_grad();
        foreach (var (_, m) in model.named_modules())
        {
            if (m is NormBase bn)
            {
                var n = bn.running_mean!.shape[0];
                bn.weight!.copy_(rand(n, generator: g) + 0.5);
                bn.bias!.copy_(randn(n, generator: g) * 0.2);
                bn.running_mean.copy_(randn(n, generator: g) * 0.1);
                bn.running_var!.copy_(rand(n, generator: g) + 0.5);
            }
        }
    }
}

/// <summary>One CIFAR basic block with a projection shortcut, written by hand for the expected groups.</summary>
internal sealed class ProjectionBlockNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d stem = nn.Conv2d(3, 4, 3, padding: 1, bias: false);
    private readonly BatchNorm2d stemBn = nn.BatchNorm2d(4);
    private readonly Conv2d conv1 = nn.Conv2d(4, 6, 3, padding: 1, bias: false);
    private readonly BatchNorm2d bn1 = nn.BatchNorm2d(6);
    private readonly Conv2d conv2 = nn.Conv2d(6, 8, 3, padding: 1, bias: false);
    private readonly BatchNorm2d bn2 = nn.BatchNorm2d(8);
    private readonly Conv2d proj = nn.Conv2d(4, 8, 1, bias: false);
    private readonly BatchNorm2d projBn = nn.BatchNorm2d(8);
    private readonly Conv2d conv3 = nn.Conv2d(8, 8, 3, padding: 1, bias: false);
    private readonly BatchNorm2d bn3 = nn.BatchNorm2d(8);
    private readonly Linear fc = nn.Linear(8, 5);

    internal ProjectionBlockNet() : base(nameof(ProjectionBlockNet)) => RegisterComponents();

    public override Tensor forward(Tensor input)
    {
        using var s = stemBn.call(stem.call(input)).relu();
        using var a = bn1.call(conv1.call(s)).relu();
        using var b = bn2.call(conv2.call(a));
        using var p = projBn.call(proj.call(s));
        using var sum = (b + p).relu();
        using var c = bn3.call(conv3.call(sum));
        using var res = (c + sum).relu();
        using var pooled = res.mean([2, 3]);
        return fc.call(pooled);
    }
}
