using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Models;

/// <summary>
/// The ImageNet ResNet of He et al. (2016) in torchvision's layout (<c>torchvision.models.resnet</c>, the
/// "v1.5" variant with the stride on the 3×3 convolution of a bottleneck), with torchvision's exact
/// state-dict keys, so a torchvision checkpoint converted to safetensors loads by name.
/// </summary>
/// <remarks>
/// <para>Layout: <c>conv1</c> 7×7 stride 2 padding 3 (no bias) → <c>bn1</c> → <c>relu</c> → <c>maxpool</c> 3×3 stride 2
/// padding 1 → <c>layer1</c> … <c>layer4</c> (64, 128, 256, 512 planes; stride 2 from <c>layer2</c> on) →
/// <c>avgpool</c> (adaptive, 1×1) → <c>fc</c> (512·expansion → classes). Basic block (ResNet-18/34):
/// <c>conv1</c> 3×3, <c>bn1</c>, <c>conv2</c> 3×3, <c>bn2</c>, optional <c>downsample</c>. Bottleneck
/// (ResNet-50/101/152, expansion 4): <c>conv1</c> 1×1, <c>bn1</c>, <c>conv2</c> 3×3 (stride), <c>bn2</c>,
/// <c>conv3</c> 1×1, <c>bn3</c>, optional <c>downsample</c>. The first block of a stage has
/// <c>downsample.0</c> (1×1 convolution, no bias) and <c>downsample.1</c> (batch norm) when the stride is not 1
/// or the width changes. Every batch norm has the buffers <c>running_mean</c>, <c>running_var</c> and
/// <c>num_batches_tracked</c>.</para>
/// <para>Parameters for 3 channels and 1000 classes: ResNet-18 11,689,512; ResNet-50 25,557,032 (as torchvision).
/// State-dict entries: ResNet-18 122 (62 parameters, 60 buffers), ResNet-50 320 (161, 159).</para>
/// <para>Initialisation as torchvision: convolutions Kaiming-normal with mode fan_out and the ReLU gain
/// (<c>kaiming_normal_(w, mode="fan_out", nonlinearity="relu")</c>), batch norm weight 1 and bias 0, the
/// final <c>fc</c> PyTorch's default <c>Linear</c> initialisation (<c>zero_init_residual=False</c>).</para>
/// <para>Key order: <c>state_dict()</c> in TorchSharp lists all parameters first, then all buffers; the keys are
/// torchvision's and <c>named_parameters()</c> / <c>named_buffers()</c> are each in torchvision's order.</para>
/// </remarks>
public sealed class ResNet : nn.Module<Tensor, Tensor>
{
    private static readonly IReadOnlyDictionary<int, (bool Bottleneck, int[] Blocks)> Configurations =
        new Dictionary<int, (bool, int[])>
        {
            [18] = (false, [2, 2, 2, 2]),
            [34] = (false, [3, 4, 6, 3]),
            [50] = (true, [3, 4, 6, 3]),
            [101] = (true, [3, 4, 23, 3]),
            [152] = (true, [3, 8, 36, 3]),
        };

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Linear fc;

    /// <summary>Creates ResNet-<paramref name="depth"/> in torchvision's layout.</summary>
    /// <param name="depth">18, 34, 50, 101 or 152.</param>
    /// <param name="inputChannels">Channels of the input images (3 for ImageNet/CIFAR, 1 for Fashion-MNIST).</param>
    /// <param name="classCount">Number of output classes (1000 for ImageNet).</param>
    public ResNet(int depth, int inputChannels, int classCount) : base($"ResNet{depth}")
    {
        if (!Configurations.TryGetValue(depth, out var configuration))
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "depth must be 18, 34, 50, 101 or 152.");
        Guard.InputChannels(inputChannels);
        Guard.ClassCount(classCount);
        Depth = depth;
        var expansion = configuration.Bottleneck ? 4 : 1;

        conv1 = nn.Conv2d(inputChannels, 64, kernel_size: 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(64);
        relu = nn.ReLU();
        maxpool = nn.MaxPool2d(kernel_size: 3, stride: 2, padding: 1);
        var inPlanes = 64;
        layer1 = MakeLayer(ref inPlanes, 64, configuration.Blocks[0], 1, configuration.Bottleneck, expansion);
        layer2 = MakeLayer(ref inPlanes, 128, configuration.Blocks[1], 2, configuration.Bottleneck, expansion);
        layer3 = MakeLayer(ref inPlanes, 256, configuration.Blocks[2], 2, configuration.Bottleneck, expansion);
        layer4 = MakeLayer(ref inPlanes, 512, configuration.Blocks[3], 2, configuration.Bottleneck, expansion);
        avgpool = nn.AdaptiveAvgPool2d(1);
        fc = nn.Linear(512 * expansion, classCount);
        RegisterComponents();
        InitializeAsTorchvision();
    }

    /// <summary>The depth: 18, 34, 50, 101 or 152.</summary>
    public int Depth { get; }

    private static Sequential MakeLayer(ref int inPlanes, int planes, int blocks, int stride, bool bottleneck, int expansion)
    {
        Sequential? downsample = null;
        if (stride != 1 || inPlanes != planes * expansion)
        {
            downsample = nn.Sequential(
                nn.Conv2d(inPlanes, planes * expansion, kernel_size: 1, stride: stride, bias: false),
                nn.BatchNorm2d(planes * expansion));
        }
        var list = new List<nn.Module<Tensor, Tensor>>
        {
            bottleneck ? new Bottleneck(inPlanes, planes, stride, downsample) : new BasicBlock(inPlanes, planes, stride, downsample),
        };
        inPlanes = planes * expansion;
        for (var i = 1; i < blocks; i++)
            list.Add(bottleneck ? new Bottleneck(inPlanes, planes, 1, null) : new BasicBlock(inPlanes, planes, 1, null));
        return nn.Sequential(list);
    }

    private void InitializeAsTorchvision()
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
                    break;
                case BatchNorm2d bn:
                    nn.init.ones_(bn.weight);
                    nn.init.zeros_(bn.bias);
                    break;
            }
        }
    }

    /// <summary>Computes class logits for a batch of shape [N, C, H, W] (H, W ≥ 1; 224×224 for ImageNet).</summary>
    /// <param name="input">The input batch.</param>
    /// <returns>Logits of shape [N, classes].</returns>
    public override Tensor forward(Tensor input)
    {
        using var c = conv1.call(input);
        using var b = bn1.call(c);
        using var r = relu.call(b);
        using var m = maxpool.call(r);
        using var l1 = layer1.call(m);
        using var l2 = layer2.call(l1);
        using var l3 = layer3.call(l2);
        using var l4 = layer4.call(l3);
        using var p = avgpool.call(l4);
        using var flat = p.flatten(1);
        return fc.call(flat);
    }
}

/// <summary>torchvision's <c>BasicBlock</c> (expansion 1).</summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    internal BasicBlock(int inPlanes, int planes, int stride, Sequential? downsample) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(inPlanes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        relu = nn.ReLU();
        conv2 = nn.Conv2d(planes, planes, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var c1 = conv1.call(input);
        using var b1 = bn1.call(c1);
        using var r1 = relu.call(b1);
        using var c2 = conv2.call(r1);
        using var output = bn2.call(c2);
        if (downsample is not null)
        {
            using var identity = downsample.call(input);
            Residual.AddInPlace(output, identity);
        }
        else
        {
            Residual.AddInPlace(output, input);
        }
        return relu.call(output);
    }
}

/// <summary>torchvision's <c>Bottleneck</c> (expansion 4, stride on the 3×3 convolution).</summary>
internal sealed class Bottleneck : nn.Module<Tensor, Tensor>
{
    private const int Expansion = 4;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly ReLU relu;
    private readonly Sequential? downsample;

    internal Bottleneck(int inPlanes, int planes, int stride, Sequential? downsample) : base(nameof(Bottleneck))
    {
        conv1 = nn.Conv2d(inPlanes, planes, kernel_size: 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        conv3 = nn.Conv2d(planes, planes * Expansion, kernel_size: 1, bias: false);
        bn3 = nn.BatchNorm2d(planes * Expansion);
        relu = nn.ReLU();
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var c1 = conv1.call(input);
        using var b1 = bn1.call(c1);
        using var r1 = relu.call(b1);
        using var c2 = conv2.call(r1);
        using var b2 = bn2.call(c2);
        using var r2 = relu.call(b2);
        using var c3 = conv3.call(r2);
        using var output = bn3.call(c3);
        if (downsample is not null)
        {
            using var identity = downsample.call(input);
            Residual.AddInPlace(output, identity);
        }
        else
        {
            Residual.AddInPlace(output, input);
        }
        return relu.call(output);
    }
}
