using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Inference;

/// <summary>The pair of forward hooks that serves one dense <c>Linear</c> through a <see cref="SparseLinear"/>.</summary>
internal sealed class SparseRoute : IDisposable
{
    private readonly SparseLinear _sparse;
    private readonly double _density;
    private readonly SparseCostModel _cost;
    private readonly Tensor _emptyInput;
    private readonly nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>.HookRemover _pre;
    private readonly nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>.HookRemover _post;
    private Tensor? _pending;

    public SparseRoute(Linear linear, SparseLinear sparse, double density, SparseCostModel cost)
    {
        _sparse = sparse;
        _density = density;
        _cost = cost;
        _emptyInput = zeros(0, sparse.InFeatures).DetachFromDisposeScope();
        _pre = linear.register_forward_pre_hook((m, x) => Before(m, x)!);
        _post = linear.register_forward_hook((m, x, y) => After(m, x, y)!);
    }

    public SparseLinear Sparse => _sparse;

    private Tensor? Before(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        _pending = null;
        var shape = input.shape;
        if (!_sparse.Accepts(input, shape) || (input.requires_grad && is_grad_enabled()))
        {
            return null;
        }

        long batch = 1;
        for (int i = 0; i < shape.Length - 1; i++)
        {
            batch *= shape[i];
        }

        if (!_cost.SparsePays(_density, batch))
        {
            return null;
        }

        _pending = _sparse.Run(input, shape);
        return _emptyInput;
    }

    private Tensor? After(nn.Module<Tensor, Tensor> module, Tensor input, Tensor output)
    {
        if (_pending is null)
        {
            return null;
        }

        var result = _pending;
        _pending = null;
        output.Dispose();
        return result;
    }

    public void Dispose()
    {
        _pre.remove();
        _post.remove();
        _pending?.Dispose();
        _emptyInput.Dispose();
        _sparse.Dispose();
    }
}
