namespace Sparsity;

/// <summary>The kind of layer that owns a <see cref="PrunableParameter"/>.</summary>
public enum PrunableLayerKind
{
    /// <summary>A fully connected layer (<c>torch.nn.Linear</c>); weight shape [out, in].</summary>
    Linear,

    /// <summary>A 1-d convolution; weight shape [out, in/groups, k].</summary>
    Conv1d,

    /// <summary>A 2-d convolution; weight shape [out, in/groups, kh, kw].</summary>
    Conv2d,

    /// <summary>A 3-d convolution; weight shape [out, in/groups, kd, kh, kw].</summary>
    Conv3d,
}
