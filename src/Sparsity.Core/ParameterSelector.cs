using System.Text.RegularExpressions;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// Walks a TorchSharp module tree and returns the weights that may be masked, named exactly like the
/// PyTorch state-dict keys (<c>layer1.0.conv1.weight</c>), in PyTorch's registration order (depth first: the
/// order of <c>named_parameters()</c> and of the state dict).
/// </summary>
public sealed class ParameterSelector
{
    private readonly ParameterSelectorOptions _options;
    private readonly Regex[] _include;
    private readonly Regex[] _exclude;

    /// <summary>Creates a selector.</summary>
    /// <param name="options">Which weights to select; <see cref="ParameterSelectorOptions.Default"/> when null.</param>
    public ParameterSelector(ParameterSelectorOptions? options = null)
    {
        _options = options ?? ParameterSelectorOptions.Default;
        _include = CompileGlobs(_options.Include, nameof(ParameterSelectorOptions.Include));
        _exclude = CompileGlobs(_options.Exclude, nameof(ParameterSelectorOptions.Exclude));
    }

    /// <summary>Selects the prunable weights of <paramref name="model"/>.</summary>
    /// <param name="model">The model; not modified.</param>
    /// <returns>The prunable weights, in PyTorch's registration order (depth first; "first" and "last" layer refer to it).</returns>
    /// <exception cref="ArgumentException">The model has no prunable weight under these options.</exception>
    public IReadOnlyList<PrunableParameter> Select(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var candidates = new List<PrunableParameter>();
        int found = 0;
        foreach (var (moduleName, module) in model.named_modules())
        {
            if (KindOf(module) is not { } kind || module.get_parameter("weight") is null)
            {
                continue;
            }

            found++;
            var name = moduleName.Length == 0 ? "weight" : moduleName + ".weight";
            if (_include.Length > 0 && !_include.Any(r => r.IsMatch(name)))
            {
                continue;
            }

            if (_exclude.Any(r => r.IsMatch(name)))
            {
                continue;
            }

            candidates.Add(new PrunableParameter(name, module, "weight", kind));
        }

        // PyTorch's order (depth first, as named_parameters and state_dict list the weights). TorchSharp's named_modules
        // lists all children of a module before their descendants, so a top-level classifier would come before the
        // convolutions nested in earlier children (ResNet: conv1, fc, layer1…), and "first/last layer" would be wrong.
        var order = model.named_parameters().Select((e, i) => (e.name, i)).GroupBy(e => e.name).ToDictionary(g => g.Key, g => g.First().i);
        candidates = [.. candidates.OrderBy(c => order.TryGetValue(c.Name, out var i) ? i : int.MaxValue)];

        var first = _options.KeepFirstLayerDense ? 1 : 0;
        var last = _options.KeepLastLayerDense ? 1 : 0;
        var selected = candidates.Skip(first).Take(Math.Max(0, candidates.Count - first - last)).ToList();
        if (selected.Count == 0)
        {
            throw new ArgumentException(
                $"Model {model.GetType().Name} has no prunable weight: {found} Conv/Linear weight(s) found, " +
                "none left after the include/exclude patterns and the first/last-layer-dense options. " +
                "Check ParameterSelectorOptions or the model.",
                nameof(model));
        }

        return selected;
    }

    private PrunableLayerKind? KindOf(nn.Module module) => module switch
    {
        Linear => PrunableLayerKind.Linear,
        Conv1d => PrunableLayerKind.Conv1d,
        Conv2d => PrunableLayerKind.Conv2d,
        Conv3d when _options.IncludeConv3d => PrunableLayerKind.Conv3d,
        _ => null,
    };

    private static Regex[] CompileGlobs(IReadOnlyList<string>? patterns, string optionName)
    {
        if (patterns is null)
        {
            throw new ArgumentNullException(optionName, $"{optionName} must not be null; use an empty list.");
        }

        return patterns.Select(p =>
        {
            if (string.IsNullOrWhiteSpace(p))
            {
                throw new ArgumentException($"{optionName} contains an empty pattern.", optionName);
            }

            var regex = "^" + Regex.Escape(p).Replace("\\*", ".*").Replace("\\?", ".") + "$";
            return new Regex(regex, RegexOptions.CultureInvariant);
        }).ToArray();
    }
}
