using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Models;

/// <summary>
/// VGG with batch normalisation for 32×32 images (Simonyan and Zisserman 2015, configurations A, B, D, E;
/// the CIFAR form with one linear classifier, as in Frankle and Carbin 2019 and open_lth).
/// </summary>
/// <remarks>
/// <para>Layout: <c>features</c> is a <c>Sequential</c> built like torchvision's <c>make_layers(cfg, batch_norm=True)</c>:
/// each convolution entry adds three modules (<c>Conv2d</c> 3×3 padding 1 with bias, <c>BatchNorm2d</c>, ReLU) and
/// each "M" adds one 2×2 max-pool, so keys are <c>features.0.weight</c>, <c>features.0.bias</c>,
/// <c>features.1.weight</c>, …, <c>features.1.running_mean</c>, … exactly as in torchvision's <c>vgg16_bn</c>.
/// Then <c>avgpool</c> (adaptive average pool to 1×1) and <c>classifier</c>, one <c>Linear</c> 512 → classes
/// (keys <c>classifier.weight</c>, <c>classifier.bias</c>).</para>
/// <para>Configurations: VGG-11 [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M]; VGG-13 [64, 64, M, 128, 128,
/// M, 256, 256, M, 512, 512, M, 512, 512, M]; VGG-16 [64, 64, M, 128, 128, M, 256 ×3, M, 512 ×3, M, 512 ×3, M];
/// VGG-19 [64, 64, M, 128, 128, M, 256 ×4, M, 512 ×4, M, 512 ×4, M].</para>
/// <para>Parameters for 3 input channels and 10 classes: VGG-11 9,231,114; VGG-16 14,728,266; VGG-19 20,040,522.</para>
/// <para>Input size: the max-pools use <c>ceil_mode</c>, which is identical to floor mode for 32×32 inputs
/// (32→16→8→4→2→1) and keeps a 28×28 input valid (28→14→7→4→2→1); the adaptive pool makes the classifier
/// independent of the input size. Initialisation is PyTorch's default for <c>Conv2d</c> and <c>Linear</c>
/// and weight 1 / bias 0 for batch norm.</para>
/// </remarks>
public sealed class Vgg : nn.Module<Tensor, Tensor>
{
    private const int M = 0;

    private static readonly IReadOnlyDictionary<int, int[]> Configurations = new Dictionary<int, int[]>
    {
        [11] = [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
        [13] = [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
        [16] = [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M],
        [19] = [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M],
    };

    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Linear classifier;

    /// <summary>Creates VGG-<paramref name="depth"/> with batch normalisation.</summary>
    /// <param name="depth">11, 13, 16 or 19.</param>
    /// <param name="inputChannels">Channels of the input images (3 for CIFAR, 1 for Fashion-MNIST).</param>
    /// <param name="classCount">Number of output classes.</param>
    public Vgg(int depth, int inputChannels, int classCount) : base($"VGG{depth}")
    {
        if (!Configurations.TryGetValue(depth, out var configuration))
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "depth must be 11, 13, 16 or 19.");
        Guard.InputChannels(inputChannels);
        Guard.ClassCount(classCount);
        Depth = depth;

        var layers = new List<nn.Module<Tensor, Tensor>>();
        long channels = inputChannels;
        foreach (var entry in configuration)
        {
            if (entry == M)
            {
                layers.Add(nn.MaxPool2d(kernel_size: 2, stride: 2, ceil_mode: true));
                continue;
            }
            layers.Add(nn.Conv2d(channels, entry, kernel_size: 3, padding: 1));
            layers.Add(nn.BatchNorm2d(entry));
            layers.Add(nn.ReLU());
            channels = entry;
        }
        features = nn.Sequential(layers);
        avgpool = nn.AdaptiveAvgPool2d(1);
        classifier = nn.Linear(channels, classCount);
        RegisterComponents();
    }

    /// <summary>The depth (number of weight layers): 11, 13, 16 or 19.</summary>
    public int Depth { get; }

    /// <summary>Computes class logits for a batch of shape [N, C, H, W].</summary>
    /// <param name="input">The input batch.</param>
    /// <returns>Logits of shape [N, classes].</returns>
    public override Tensor forward(Tensor input)
    {
        using var f = features.call(input);
        using var p = avgpool.call(f);
        using var flat = p.flatten(1);
        return classifier.call(flat);
    }
}
