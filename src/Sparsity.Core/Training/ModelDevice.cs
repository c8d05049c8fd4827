using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Training;

/// <summary>Helpers about where a model lives.</summary>
internal static class ModelDevice
{
    /// <summary>The device of the model's first parameter (or buffer); CPU for a model without tensors.</summary>
    public static Device Of(nn.Module model)
    {
        foreach (var (_, p) in model.named_parameters())
        {
            return p.device;
        }

        foreach (var (_, b) in model.named_buffers())
        {
            return b.device;
        }

        return CPU;
    }

    /// <summary>Checks the dataset's examples are what a classifier needs before anything reaches libtorch.</summary>
    public static void CheckDataset(Sparsity.Data.IDataset data, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(data, parameterName);
        if (data.Count < 1)
        {
            throw new ArgumentException("The dataset is empty.", parameterName);
        }

        if (data.ClassCount < 2)
        {
            throw new ArgumentException($"The dataset has {data.ClassCount} classes; at least 2 are needed.", parameterName);
        }
    }
}
