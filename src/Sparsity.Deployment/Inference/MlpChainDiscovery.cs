using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Inference;

/// <summary>
/// Proves, by running the model, that it computes a plain Linear chain: with forward hooks on every <c>Linear</c>,
/// two random probe batches must show the same layers called once each in the same order, the first one seeing
/// the model's input flattened, every later one seeing exactly the previous one's output or its ReLU, and the
/// model returning exactly the last one's output. Exact equality (not a tolerance) is required, so any other
/// arithmetic between the layers (a norm, another activation, a residual, dropout in training mode) is caught.
/// Buffers are restored after probing. Limit: control flow that depends on the input values and is not exercised
/// by the probes cannot be seen.
/// </summary>
internal static class MlpChainDiscovery
{
    /// <summary>One layer of a discovered chain.</summary>
    public sealed record Link(string Name, Linear Layer, bool ReluAfter);

    public static IReadOnlyList<Link> Discover(nn.Module<Tensor, Tensor> model, long[] exampleShape)
    {
        var names = model.named_modules().Where(m => m.module is Linear).ToDictionary(m => (Linear)m.module, m => m.name);
        if (names.Count == 0)
        {
            throw new ArgumentException("The model has no Linear layer; CompileMlp compiles Linear chains (use Convert for other models).", nameof(model));
        }

        List<Link>? chain = null;
        for (int probe = 0; probe < 2; probe++)
        {
            var found = Probe(model, exampleShape, names, seed: 7919 + probe);
            if (chain is not null && !chain.Select(l => l.Name).SequenceEqual(found.Select(l => l.Name)))
            {
                throw new ArgumentException(
                    $"The model called its Linear layers in different orders on two probes ({string.Join(", ", chain.Select(l => l.Name))} / {string.Join(", ", found.Select(l => l.Name))}); " +
                    "CompileMlp needs a fixed chain (use Convert).", nameof(model));
            }

            chain = found;
        }

        return chain!;
    }

    private static List<Link> Probe(nn.Module<Tensor, Tensor> model, long[] exampleShape, Dictionary<Linear, string> names, int seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var calls = new List<(Linear Layer, Tensor Input, Tensor Output)>();
        var hooks = names.Keys.Select(l => l.register_forward_hook((m, x, y) =>
        {
            calls.Add(((Linear)m, x.detach().clone(), y.detach().clone()));
            return y;
        })).ToList();

        // Probing runs the model; a norm in training mode would update its running statistics, so every buffer
        // is restored afterwards and a refused model is left exactly as it was.
        var buffers = model.named_buffers().Select(b => (b.buffer, Saved: b.buffer.detach().clone())).ToList();
        Tensor x, y;
        try
        {
            var first = names.Keys.First().weight!;
            x = randn([2, .. exampleShape], dtype: first.dtype, device: first.device, generator: new Generator((ulong)seed, first.device)) * 3;
            y = model.call(x);
        }
        finally
        {
            hooks.ForEach(h => h.remove());
            buffers.ForEach(b => b.buffer.copy_(b.Saved));
        }

        if (calls.Count == 0)
        {
            throw new ArgumentException("The model called none of its Linear layers through call(...) on a probe; CompileMlp cannot see its chain (use Convert).", nameof(model));
        }

        var twice = calls.GroupBy(c => c.Layer).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new ArgumentException($"{names[twice.Key]} was called {twice.Count()} times in one forward pass; CompileMlp needs each Linear once (use Convert).", nameof(model));
        }

        if (!Same(calls[0].Input, x.reshape(2, -1)))
        {
            throw new ArgumentException(
                $"The input of {names[calls[0].Layer]} is not the model's input flattened: something computes before the first Linear " +
                "(a convolution, a normalisation). CompileMlp compiles flatten → Linear chains only (use Convert).", nameof(model));
        }

        var links = new List<Link>();
        for (int i = 0; i < calls.Count; i++)
        {
            var (layer, _, output) = calls[i];
            bool relu = false;
            if (i + 1 < calls.Count)
            {
                var next = calls[i + 1].Input;
                bool asRelu = Same(next, output.relu()), asIs = Same(next, output);
                if (!asRelu && !asIs)
                {
                    throw new ArgumentException(
                        $"The input of {names[calls[i + 1].Layer]} is neither the output of {names[layer]} nor its ReLU (another activation, a norm, dropout in training mode?); " +
                        "CompileMlp fuses ReLU only (call eval() first, or use Convert).", nameof(model));
                }

                if (asRelu && asIs)
                {
                    throw new ArgumentException($"The probe could not tell whether a ReLU follows {names[layer]} (its outputs were all non-negative); use Convert.", nameof(model));
                }

                relu = asRelu;
            }

            links.Add(new Link(names[layer], layer, relu));
        }

        if (!Same(y, calls[^1].Output))
        {
            throw new ArgumentException(
                $"The model's output is not the output of its last Linear ({names[calls[^1].Layer]}): something computes after it. CompileMlp compiles chains that end in a Linear (use Convert).",
                nameof(model));
        }

        return links;
    }

    /// <summary>Same shape and bit-for-bit equal values.</summary>
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
