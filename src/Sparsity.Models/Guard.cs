namespace Sparsity.Models;

/// <summary>Argument checks shared by the reference models.</summary>
internal static class Guard
{
    internal static void InputChannels(int inputChannels, string paramName = "inputChannels")
    {
        if (inputChannels < 1)
            throw new ArgumentOutOfRangeException(paramName, inputChannels,
                "inputChannels must be at least 1 (1 for Fashion-MNIST/MNIST, 3 for CIFAR/ImageNet).");
    }

    internal static void ClassCount(int classCount, string paramName = "classCount")
    {
        if (classCount < 1)
            throw new ArgumentOutOfRangeException(paramName, classCount, "classCount must be at least 1.");
    }

    /// <summary>The image side assumed when none is given: 28 for one channel (MNIST family), 32 otherwise (CIFAR).</summary>
    internal static int ImageSize(int? imageSize, int inputChannels, string paramName = "imageSize")
    {
        var size = imageSize ?? (inputChannels == 1 ? 28 : 32);
        if (size < 1)
            throw new ArgumentOutOfRangeException(paramName, imageSize, "imageSize must be at least 1 pixel.");
        return size;
    }
}
