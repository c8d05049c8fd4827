using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Models;

/// <summary>
/// LeNet-5 (LeCun et al. 1998) in the modern ReLU / max-pooling form used by pruning papers.
/// </summary>
/// <remarks>
/// Layout for a 1×28×28 input: <c>conv1</c> C→6, 5×5, padding 2 (28×28) → ReLU → max-pool 2 (14×14) →
/// <c>conv2</c> 6→16, 5×5 (10×10) → ReLU → max-pool 2 (5×5) → adaptive average pool to 5×5 (the identity for
/// a 28×28 input; a 3×32×32 CIFAR input gives a 6×6 map, which it averages down to 5×5) → flatten (400) → <c>fc1</c> 400→120 → ReLU → <c>fc2</c> 120→84 → ReLU → <c>fc3</c> 84→classes.
/// Keys: <c>conv1.weight/bias</c>, <c>conv2.weight/bias</c>, <c>fc1</c>, <c>fc2</c>, <c>fc3</c> weight and bias.
/// Parameters: 61,706 for one input channel and 10 classes (62,006 for three channels).
/// Initialisation is PyTorch's default for <c>nn.Conv2d</c> and <c>nn.Linear</c>.
/// </remarks>
public sealed class LeNet5 : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input images (1 for Fashion-MNIST, 3 for CIFAR).</param>
    /// <param name="classCount">Number of output classes.</param>
    public LeNet5(int inputChannels, int classCount) : base(nameof(LeNet5))
    {
        Guard.InputChannels(inputChannels);
        Guard.ClassCount(classCount);
        conv1 = nn.Conv2d(inputChannels, 6, kernel_size: 5, padding: 2);
        conv2 = nn.Conv2d(6, 16, kernel_size: 5);
        avgpool = nn.AdaptiveAvgPool2d(5);
        fc1 = nn.Linear(16 * 5 * 5, 120);
        fc2 = nn.Linear(120, 84);
        fc3 = nn.Linear(84, classCount);
        RegisterComponents();
    }

    /// <summary>Computes class logits for a batch of shape [N, C, H, W] with H, W ≥ 12.</summary>
    /// <param name="input">The input batch.</param>
    /// <returns>Logits of shape [N, classes].</returns>
    public override Tensor forward(Tensor input)
    {
        using var c1 = conv1.call(input);
        using var r1 = c1.relu();
        using var p1 = nn.functional.max_pool2d(r1, 2);
        using var c2 = conv2.call(p1);
        using var r2 = c2.relu();
        using var p2 = nn.functional.max_pool2d(r2, 2);
        using var a = avgpool.call(p2);
        using var flat = a.flatten(1);
        using var h1 = fc1.call(flat);
        using var a1 = h1.relu();
        using var h2 = fc2.call(a1);
        using var a2 = h2.relu();
        return fc3.call(a2);
    }
}
