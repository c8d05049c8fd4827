using static TorchSharp.torch;

namespace Sparsity.Models;

/// <summary>
/// Creates the reference networks of pruning and lottery-ticket papers by name.
/// </summary>
/// <remarks>
/// Names (case-insensitive): <c>lenet300</c> (<see cref="LeNet300100"/>), <c>lenet5</c> (<see cref="LeNet5"/>),
/// <c>vgg11</c>, <c>vgg16</c>, <c>vgg19</c> (<see cref="Vgg"/>), <c>resnet20</c>, <c>resnet32</c>, <c>resnet56</c>
/// (<see cref="CifarResNet"/> with option A shortcuts), <c>resnet18</c>, <c>resnet50</c> (<see cref="ResNet"/>,
/// torchvision layout). A new model is freshly initialised from TorchSharp's global generator: call
/// <c>torch.manual_seed</c> first for reproducible weights.
/// </remarks>
public static class ReferenceModels
{
    private static readonly string[] ModelNames =
        ["lenet300", "lenet5", "vgg11", "vgg16", "vgg19", "resnet20", "resnet32", "resnet56", "resnet18", "resnet50"];

    /// <summary>The names <see cref="Create"/> accepts, in a fixed order.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(ModelNames);

    /// <summary>Creates the named model on the CPU with fresh weights.</summary>
    /// <param name="name">One of <see cref="Names"/> (case-insensitive).</param>
    /// <param name="inputChannels">Channels of the input images: 1 for Fashion-MNIST (28×28), 3 for CIFAR (32×32).</param>
    /// <param name="classCount">Number of output classes.</param>
    /// <returns>The model, in training mode.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not one of <see cref="Names"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputChannels"/> or <paramref name="classCount"/> is below 1.</exception>
    /// <remarks><c>lenet300</c> assumes 28×28 images for one channel and 32×32 otherwise; construct
    /// <see cref="LeNet300100"/> directly for another size.</remarks>
    public static nn.Module<Tensor, Tensor> Create(string name, int inputChannels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(name);
        Guard.InputChannels(inputChannels);
        Guard.ClassCount(classCount);
        return name.Trim().ToLowerInvariant() switch
        {
            "lenet300" => new LeNet300100(inputChannels, classCount),
            "lenet5" => new LeNet5(inputChannels, classCount),
            "vgg11" => new Vgg(11, inputChannels, classCount),
            "vgg16" => new Vgg(16, inputChannels, classCount),
            "vgg19" => new Vgg(19, inputChannels, classCount),
            "resnet20" => new CifarResNet(20, inputChannels, classCount),
            "resnet32" => new CifarResNet(32, inputChannels, classCount),
            "resnet56" => new CifarResNet(56, inputChannels, classCount),
            "resnet18" => new ResNet(18, inputChannels, classCount),
            "resnet50" => new ResNet(50, inputChannels, classCount),
            _ => throw new ArgumentException(
                $"Unknown model '{name}'. Valid names: {string.Join(", ", ModelNames)}.", nameof(name)),
        };
    }
}
