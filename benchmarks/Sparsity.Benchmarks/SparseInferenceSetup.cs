using Sparsity.Criteria;
using Sparsity.Models;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>Models, magnitude masks and the COO path shared by the sparse-inference benchmarks.</summary>
internal static class SparseInferenceSetup
{
    /// <summary>LeNet-300-100 (seed 0, random initialisation) with a layer-wise magnitude mask on fc1 and fc2 (each at the given sparsity; fc3 dense).</summary>
    public static (nn.Module<Tensor, Tensor> Model, MaskSet Masks) LeNet(double sparsity)
    {
        set_num_threads(1);
        manual_seed(0);
        var model = new LeNet300100(1, 10);
        model.eval();
        var parameters = new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = true }).Select(model);
        // Layer-wise magnitude: every masked layer keeps its own top (1 − sparsity) of |w|.
        using var scores = new MagnitudeCriterion().Score(model, parameters, []);
        var masks = new LayerWiseAllocation().Allocate(scores, sparsity);
        masks.ApplyTo(model);
        return (model, masks);
    }

    /// <summary>libtorch's COO path for one Linear: yᵀ = W_coo · xᵀ, then + b.</summary>
    public sealed class CooLinear(Tensor weight, Tensor? bias) : IDisposable
    {
        private readonly Tensor _w = weight.detach().to_sparse();
        private readonly Tensor? _b = bias?.detach().clone();

        public Tensor Forward(Tensor x)
        {
            using var t = x.t();
            using var yt = _w.mm(t);
            var y = yt.t();
            return _b is null ? y : y.add_(_b);
        }

        public void Dispose()
        {
            _w.Dispose();
            _b?.Dispose();
        }
    }
}
