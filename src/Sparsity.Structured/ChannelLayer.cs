namespace Sparsity.Structured;

/// <summary>The kind of a layer whose channels the structured pruner can remove.</summary>
public enum ChannelLayerKind
{
    /// <summary><c>Conv1d</c> (channels on dimension 1).</summary>
    Conv1d = 0,

    /// <summary><c>Conv2d</c> (channels on dimension 1), grouped and depthwise included.</summary>
    Conv2d = 1,

    /// <summary><c>Linear</c> (features on the last dimension).</summary>
    Linear = 2,

    /// <summary><c>BatchNorm1d</c> (channels on dimension 1).</summary>
    BatchNorm1d = 3,

    /// <summary><c>BatchNorm2d</c> (channels on dimension 1).</summary>
    BatchNorm2d = 4,
}

/// <summary>Which side of a layer a channel index refers to.</summary>
public enum ChannelRole
{
    /// <summary>An output channel (filter) of a convolution or an output feature of a linear layer.</summary>
    Output = 0,

    /// <summary>An input channel of a convolution or an input feature of a linear layer.</summary>
    Input = 1,

    /// <summary>A channel of a batch norm (its input and output channel are the same).</summary>
    Norm = 2,
}

/// <summary>A prunable layer of the model as the discovery saw it.</summary>
/// <param name="Name">The module name (PyTorch state-dict prefix, e.g. <c>layer1.0.conv1</c>).</param>
/// <param name="Kind">The layer kind.</param>
/// <param name="InputChannels">Input channels (features); for a batch norm its channel count.</param>
/// <param name="OutputChannels">Output channels (features); for a batch norm its channel count.</param>
/// <param name="Groups">Convolution groups (1 for every other kind).</param>
public sealed record ChannelLayer(string Name, ChannelLayerKind Kind, long InputChannels, long OutputChannels, long Groups)
{
    /// <summary>True for a batch norm.</summary>
    public bool IsNorm => Kind is ChannelLayerKind.BatchNorm1d or ChannelLayerKind.BatchNorm2d;

    /// <summary>The channel count of <paramref name="role"/> on this layer.</summary>
    /// <param name="role">Output, Input (convolution, linear) or Norm (batch norm).</param>
    /// <returns>The width.</returns>
    public long Width(ChannelRole role) => role switch
    {
        ChannelRole.Output => OutputChannels,
        ChannelRole.Input => InputChannels,
        _ => OutputChannels,
    };

    /// <summary>The roles this layer has: Input and Output, or Norm.</summary>
    public IReadOnlyList<ChannelRole> Roles => IsNorm ? [ChannelRole.Norm] : [ChannelRole.Input, ChannelRole.Output];
}
