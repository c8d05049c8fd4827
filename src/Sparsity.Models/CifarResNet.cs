using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Models;

/// <summary>How a CIFAR ResNet block matches shapes when it changes width or resolution (He et al. 2016, §4.2).</summary>
public enum ResNetShortcut
{
    /// <summary>
    /// Option A: the identity, subsampled with stride 2 and zero-padded in the channel dimension
    /// (half the new channels before, half after). Adds no parameters. The default, as in the paper's CIFAR
    /// experiments.
    /// </summary>
    ZeroPadIdentity = 0,

    /// <summary>
    /// Option B: a projection, 1×1 convolution (stride 2, no bias) followed by batch norm, registered as
    /// <c>shortcut.0</c> / <c>shortcut.1</c> in the blocks that change shape; identity elsewhere.
    /// </summary>
    Projection = 1,
}

/// <summary>
/// The CIFAR ResNet of He et al. (2016, §4.2): depth 6n + 2 (ResNet-20, -32, -44, -56, -110), three stages of
/// n basic blocks with 16, 32 and 64 channels.
/// </summary>
/// <remarks>
/// <para>Layout: <c>conv1</c> 3×3 C→16 (no bias) → <c>bn1</c> → ReLU → <c>layer1</c> (n blocks, 16 ch, 32×32) →
/// <c>layer2</c> (32 ch, first block stride 2) → <c>layer3</c> (64 ch, first block stride 2) → global average
/// pool → <c>fc</c> 64 → classes. A block is <c>conv1</c> 3×3 → <c>bn1</c> → ReLU → <c>conv2</c> 3×3 → <c>bn2</c>,
/// plus the shortcut, then ReLU. Keys follow PyTorch naming: <c>conv1.weight</c>, <c>bn1.weight</c>, …,
/// <c>layer1.0.conv1.weight</c>, <c>layer1.0.bn1.running_mean</c>, …, <c>layer2.0.shortcut.0.weight</c>
/// (option B only), <c>fc.weight</c>, <c>fc.bias</c>.</para>
/// <para>Parameters for 10 classes with option A: ResNet-20 269,722 (3 channels) / 269,434 (1 channel);
/// ResNet-32 464,154 / 463,866; ResNet-56 853,018 / 852,730. Option B adds 2,752 (two 1×1 projections
/// with batch norm: 16→32 and 32→64).</para>
/// <para>Initialisation is PyTorch's default for <c>Conv2d</c> and <c>Linear</c>, weight 1 / bias 0 for
/// batch norm. Any input of at least 4×4 works (the stem keeps the resolution; the pool is adaptive).</para>
/// </remarks>
public sealed class CifarResNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Linear fc;

    /// <summary>Creates ResNet-<paramref name="depth"/> for CIFAR-sized images.</summary>
    /// <param name="depth">6n + 2 with n ≥ 1: 20, 32, 44, 56, 110, ….</param>
    /// <param name="inputChannels">Channels of the input images (3 for CIFAR, 1 for Fashion-MNIST).</param>
    /// <param name="classCount">Number of output classes.</param>
    /// <param name="shortcut">Option A (zero-padded identity, default) or option B (projection).</param>
    public CifarResNet(int depth, int inputChannels, int classCount, ResNetShortcut shortcut = ResNetShortcut.ZeroPadIdentity)
        : base($"ResNet{depth}")
    {
        if (depth < 8 || (depth - 2) % 6 != 0)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "depth must be 6n + 2 with n ≥ 1 (20, 32, 44, 56, 110, …).");
        Guard.InputChannels(inputChannels);
        Guard.ClassCount(classCount);
        if (!Enum.IsDefined(shortcut))
            throw new ArgumentOutOfRangeException(nameof(shortcut), shortcut, "shortcut must be ZeroPadIdentity (option A) or Projection (option B).");
        Depth = depth;
        Shortcut = shortcut;
        var n = (depth - 2) / 6;

        conv1 = nn.Conv2d(inputChannels, 16, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(16);
        layer1 = MakeStage(16, 16, n, 1, shortcut);
        layer2 = MakeStage(16, 32, n, 2, shortcut);
        layer3 = MakeStage(32, 64, n, 2, shortcut);
        avgpool = nn.AdaptiveAvgPool2d(1);
        fc = nn.Linear(64, classCount);
        RegisterComponents();
    }

    /// <summary>The depth 6n + 2.</summary>
    public int Depth { get; }

    /// <summary>The shortcut option of the blocks that change shape.</summary>
    public ResNetShortcut Shortcut { get; }

    private static Sequential MakeStage(int inPlanes, int planes, int blocks, int stride, ResNetShortcut shortcut)
    {
        var list = new List<nn.Module<Tensor, Tensor>> { new CifarBasicBlock(inPlanes, planes, stride, shortcut) };
        for (var i = 1; i < blocks; i++)
            list.Add(new CifarBasicBlock(planes, planes, 1, shortcut));
        return nn.Sequential(list);
    }

    /// <summary>Computes class logits for a batch of shape [N, C, H, W].</summary>
    /// <param name="input">The input batch.</param>
    /// <returns>Logits of shape [N, classes].</returns>
    public override Tensor forward(Tensor input)
    {
        using var c = conv1.call(input);
        using var b = bn1.call(c);
        b.relu_();
        using var l1 = layer1.call(b);
        using var l2 = layer2.call(l1);
        using var l3 = layer3.call(l2);
        using var p = avgpool.call(l3);
        using var flat = p.flatten(1);
        return fc.call(flat);
    }
}

/// <summary>Basic block of the CIFAR ResNet (two 3×3 convolutions) with an option A or B shortcut.</summary>
internal sealed class CifarBasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? shortcut;
    private readonly int stride;
    private readonly long padBefore;
    private readonly long padAfter;
    private readonly bool zeroPad;

    internal CifarBasicBlock(int inPlanes, int planes, int stride, ResNetShortcut option) : base(nameof(CifarBasicBlock))
    {
        this.stride = stride;
        conv1 = nn.Conv2d(inPlanes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        if (stride != 1 || inPlanes != planes)
        {
            if (option == ResNetShortcut.Projection)
            {
                shortcut = nn.Sequential(
                    nn.Conv2d(inPlanes, planes, kernel_size: 1, stride: stride, bias: false),
                    nn.BatchNorm2d(planes));
            }
            else
            {
                zeroPad = true;
                padBefore = (planes - inPlanes) / 2;
                padAfter = planes - inPlanes - padBefore;
            }
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var c1 = conv1.call(input);
        using var b1 = bn1.call(c1);
        b1.relu_();
        using var c2 = conv2.call(b1);
        var output = bn2.call(c2);
        if (shortcut is not null)
        {
            using var s = shortcut.call(input);
            Residual.AddInPlace(output, s);
        }
        else if (zeroPad)
        {
            using var sub = input.index(TensorIndex.Colon, TensorIndex.Colon,
                TensorIndex.Slice(null, null, stride), TensorIndex.Slice(null, null, stride));
            using var padded = nn.functional.pad(sub, [0, 0, 0, 0, padBefore, padAfter]);
            Residual.AddInPlace(output, padded);
        }
        else
        {
            Residual.AddInPlace(output, input);
        }
        output.relu_();
        return output;
    }
}
