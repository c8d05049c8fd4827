using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Models;

/// <summary>
/// LeNet-300-100: the fully connected network of LeCun et al. (1998) used by Frankle and Carbin
/// (2019, "The Lottery Ticket Hypothesis", Fig. 2) and by most pruning papers on MNIST-like data.
/// </summary>
/// <remarks>
/// Layout: flatten the input, then <c>fc1</c> (C·H·W → 300), ReLU, <c>fc2</c> (300 → 100), ReLU,
/// <c>fc3</c> (100 → classes). State-dict keys: <c>fc1.weight</c>, <c>fc1.bias</c>, <c>fc2.weight</c>,
/// <c>fc2.bias</c>, <c>fc3.weight</c>, <c>fc3.bias</c>. For 1×28×28 inputs and 10 classes the network has
/// 266,610 parameters. Initialisation is PyTorch's default for <c>nn.Linear</c>
/// (Kaiming-uniform with a = √5, bias uniform in ±1/√fan_in).
/// </remarks>
public sealed class LeNet300100 : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input images (1 for Fashion-MNIST, 3 for CIFAR).</param>
    /// <param name="classCount">Number of output classes.</param>
    /// <param name="imageSize">Side of the (square) input images; default 28 for one channel, 32 otherwise.
    /// The first layer has <c>inputChannels · imageSize²</c> inputs.</param>
    public LeNet300100(int inputChannels, int classCount, int? imageSize = null) : base(nameof(LeNet300100))
    {
        Guard.InputChannels(inputChannels);
        Guard.ClassCount(classCount);
        var side = Guard.ImageSize(imageSize, inputChannels);
        InputFeatures = (long)inputChannels * side * side;
        fc1 = nn.Linear(InputFeatures, 300);
        fc2 = nn.Linear(300, 100);
        fc3 = nn.Linear(100, classCount);
        RegisterComponents();
    }

    /// <summary>Number of input features the first layer expects (channels × side²).</summary>
    public long InputFeatures { get; }

    /// <summary>Computes class logits for a batch of shape [N, C, H, W] (or already flat [N, C·H·W]).</summary>
    /// <param name="input">The input batch.</param>
    /// <returns>Logits of shape [N, classes].</returns>
    public override Tensor forward(Tensor input)
    {
        using var flat = input.flatten(1);
        if (flat.shape[1] != InputFeatures)
            throw new ArgumentException(
                $"LeNet-300-100 expects {InputFeatures} input features per example, got {flat.shape[1]} (input shape [{string.Join(", ", input.shape)}]).",
                nameof(input));
        using var h1 = fc1.call(flat);
        using var a1 = h1.relu();
        using var h2 = fc2.call(a1);
        using var a2 = h2.relu();
        return fc3.call(a2);
    }
}
