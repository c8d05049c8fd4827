using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>Captures and restores the train/eval mode of every module of a model; sets the mode of its norm layers.</summary>
internal sealed class TrainingModes
{
    private readonly List<(nn.Module Module, bool Training)> _modes;

    private TrainingModes(List<(nn.Module, bool)> modes) => _modes = modes;

    public static TrainingModes Capture(nn.Module model) =>
        new([(model, model.training), .. model.named_modules().Select(m => (m.module, m.module.training))]);

    /// <summary>Puts every normalisation layer (BatchNorm and the like) of <paramref name="model"/> in train or eval mode.</summary>
    public static void SetNormLayers(nn.Module model, bool training)
    {
        foreach (var norm in model.modules().OfType<NormBase>())
        {
            norm.train(training);
        }
    }

    public void Restore()
    {
        foreach (var (m, training) in _modes)
        {
            m.train(training);
        }
    }
}
