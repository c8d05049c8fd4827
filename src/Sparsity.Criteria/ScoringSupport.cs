using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>Validation and loss helpers shared by the criteria (all checks run before libtorch sees bad input).</summary>
internal static class ScoringSupport
{
    /// <summary>
    /// Throws, naming the parameter, when a criterion computed −∞ (NaN and +∞ are rejected by <see cref="ScoreSet"/>,
    /// which accepts −∞ only as iterative pruning's "never keep" marker). Disposes the scores before throwing.
    /// </summary>
    public static void RejectNegativeInfinity(List<KeyValuePair<string, Tensor>> scores, string criterion)
    {
        foreach (var (name, s) in scores)
        {
            using var inf = s.isneginf().any();
            if (inf.item<bool>())
            {
                scores.ForEach(e => e.Value.Dispose());
                throw new ArgumentException(
                    $"{criterion} computed −∞ scores for '{name}'; check that parameter's weights for NaN/±∞.", "parameters");
            }
        }
    }

    /// <summary>
    /// Checks that <paramref name="parameters"/> is non-empty, has unique names, and that every entry is a live
    /// floating-point parameter of <paramref name="model"/> under its name; returns the common device.
    /// </summary>
    public static Device ValidateParameters(nn.Module model, IReadOnlyList<PrunableParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0)
        {
            throw new ArgumentException("At least one prunable parameter is needed; select them with ParameterSelector.", nameof(parameters));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        Device? device = null;
        foreach (var p in parameters)
        {
            if (p is null)
            {
                throw new ArgumentException("The parameter list contains null.", nameof(parameters));
            }

            if (!names.Add(p.Name))
            {
                throw new ArgumentException($"Parameter '{p.Name}' appears twice.", nameof(parameters));
            }

            var live = model.get_parameter(p.Name);
            if (live is null || live.Handle != p.Weight.Handle)
            {
                throw new ArgumentException(
                    $"Parameter '{p.Name}' is not a parameter of this model under that name; select the parameters from the model you score.",
                    nameof(parameters));
            }

            if (!live.is_floating_point())
            {
                throw new ArgumentException($"Parameter '{p.Name}' has dtype {live.dtype}; only floating-point weights can be scored.", nameof(parameters));
            }

            device ??= live.device;
            if (!device.SameAs(live.device))
            {
                throw new ArgumentException(
                    $"Parameter '{p.Name}' lives on {live.device} but '{parameters[0].Name}' on {device}; move the whole model to one device.",
                    nameof(parameters));
            }
        }

        return device!;
    }

    /// <summary>
    /// Copies the batches onto <paramref name="device"/> (inputs in <paramref name="dtype"/>, labels int64),
    /// checking that there is at least one, that inputs are floating point with one example shape, and that
    /// labels are non-negative. The caller owns the copies (dispose them).
    /// </summary>
    public static List<Batch> Materialize(IEnumerable<Batch> batches, Device device, ScalarType dtype, string criterion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var result = new List<Batch>();
        try
        {
            long[]? shape = null;
            int index = 0;
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (batch is null)
                {
                    throw new ArgumentException($"Batch {index} is null.", nameof(batches));
                }

                if (!batch.Inputs.is_floating_point())
                {
                    throw new ArgumentException($"Batch {index} has {batch.Inputs.dtype} inputs; inputs must be floating point.", nameof(batches));
                }

                var exampleShape = batch.Inputs.shape.Skip(1).ToArray();
                shape ??= exampleShape;
                if (!shape.SequenceEqual(exampleShape))
                {
                    throw new ArgumentException(
                        $"Batch {index} has examples of shape [{string.Join(", ", exampleShape)}] but batch 0 has [{string.Join(", ", shape)}]; all batches must share one input shape.",
                        nameof(batches));
                }

                using (var scope = NewDisposeScope())
                {
                    var labels = batch.Labels.detach().to(ScalarType.Int64);
                    var min = labels.min().item<long>();
                    if (min < 0)
                    {
                        throw new ArgumentException($"Batch {index} has label {min}; labels are class indices ≥ 0.", nameof(batches));
                    }

                    var x = batch.Inputs.detach().to(dtype, device).clone();
                    var y = labels.to(device).clone();
                    result.Add(new Batch(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope()));
                }

                index++;
            }

            if (result.Count == 0)
            {
                throw new ArgumentException($"The {criterion} criterion needs at least one batch of labelled data; none was given.", nameof(batches));
            }

            return result;
        }
        catch
        {
            result.ForEach(b => b.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Forward pass and mean cross-entropy of <c>logits / temperature</c>. Checks the output shape and the
    /// label range against the number of logits before the loss is computed, and rejects a NaN or infinite loss.
    /// </summary>
    public static Tensor CrossEntropy(nn.Module model, Batch batch, int index, double temperature, string criterion)
    {
        if (model is not nn.Module<Tensor, Tensor> forward)
        {
            throw new ArgumentException(
                $"The {criterion} criterion needs a model with a single tensor input and output (nn.Module<Tensor, Tensor>); got {model.GetType().Name}.",
                nameof(model));
        }

        Tensor output;
        try
        {
            output = forward.forward(batch.Inputs);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ArgumentException(
                $"The model rejected batch {index} with inputs of shape [{string.Join(", ", batch.Inputs.shape)}]: {e.Message}",
                "batches", e);
        }

        if (output.dim() != 2 || output.shape[0] != batch.Count)
        {
            throw new ArgumentException(
                $"The {criterion} criterion needs logits of shape (N, classes); the model returned [{string.Join(", ", output.shape)}] for batch {index} of {batch.Count} examples.",
                nameof(model));
        }

        var classes = output.shape[1];
        var max = batch.Labels.max().item<long>();
        if (max >= classes)
        {
            throw new ArgumentException(
                $"Batch {index} has label {max} but the model outputs {classes} classes; labels must lie in [0, {classes}).",
                "batches");
        }

        var logits = temperature == 1.0 ? output : output / temperature;
        var loss = nn.functional.cross_entropy(logits, batch.Labels);
        var value = loss.detach().to_type(ScalarType.Float64).item<double>();
        if (!double.IsFinite(value))
        {
            throw new InvalidOperationException(
                $"The {criterion} loss of batch {index} is {value}; check the inputs (NaN or infinite values) and the weights of the model.");
        }

        return loss;
    }

    /// <summary>Whether an <c>autograd.grad</c> result is a defined tensor (unused inputs give null or an undefined handle).</summary>
    public static bool Defined(Tensor? t) => t is not null && t.Handle != IntPtr.Zero;

    /// <summary>Sets train or eval mode on the whole model.</summary>
    public static void SetMode(nn.Module model, bool train)
    {
        if (train)
        {
            model.train();
        }
        else
        {
            model.eval();
        }
    }
}
