using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// What a search step does after the backward pass (docs/algorithms.md "One search step", items 3 and 4): one SGD
/// step on the scores, then every layer's mask update under the restriction policy — through the layer's selector
/// and host-side swap lists, or, off the CPU with an all-or-nothing policy, through <see cref="SyncFreeMaskUpdate"/>
/// with the flip counters kept on the device until <see cref="EndEpoch"/>. Owns the constraint's forced indices.
/// </summary>
internal sealed class SearchStep : IDisposable
{
    private readonly MaskSearchOptions _options;
    private readonly SearchState _state;
    private readonly MaskedModel _masked;
    private readonly IReadOnlyList<PrunableParameter> _parameters;
    private readonly Dictionary<string, (Tensor On, Tensor Off)> _forced;
    private readonly bool _refuseOnTie;
    private readonly Tensor? _flips; // accepted, refused: the sync-free path's device counters

    // The optimiser's constant factors as Scalars made once and disposed with the step: an implicit double → Scalar
    // conversion per call would leave a finalizable native object per layer and step, freed only when the GC runs.
    private readonly Scalar _one = 1.ToScalar();
    private readonly Scalar _momentum;
    private readonly Scalar _weightDecay;
    private readonly Scalar _plusInfinity = float.PositiveInfinity.ToScalar();
    private readonly Scalar _minusInfinity = float.NegativeInfinity.ToScalar();
    private long _accepted, _refused;

    public SearchStep(MaskSearchOptions options, SearchState state, MaskedModel masked, IReadOnlyList<PrunableParameter> parameters, Device device)
    {
        _options = options;
        _state = state;
        _masked = masked;
        _parameters = parameters;
        _forced = ForcedIndices(options, parameters, device);
        _momentum = options.Momentum.ToScalar();
        _weightDecay = options.WeightDecay.ToScalar();
        bool allOrNothing = SyncFreeMaskUpdate.IsAllOrNothing(options.Restriction, out _refuseOnTie);
        if (allOrNothing && state.Pattern is null && (device.type != TorchSharp.DeviceType.CPU || SearchState.ForceSyncFreeUpdate))
        {
            _flips = zeros(2, ScalarType.Int64, device).DetachFromDisposeScope();
        }
    }

    /// <summary>The score step and every layer's mask update (inside the caller's dispose scope and no_grad).</summary>
    public void Run(double lr, int epoch)
    {
        StepScores(lr);
        foreach (var p in _parameters)
        {
            if (!_state.Trackers.TryGetValue(p.Name, out var tracker))
            {
                continue; // a layer that keeps nothing
            }

            if (_flips is not null)
            {
                SyncFreeMaskUpdate.Apply(_masked, p.Name, SelectionScores(p), tracker.Kept, _refuseOnTie, _flips[0], _flips[1]);
                continue;
            }

            var (a, r) = UpdateMask(p, tracker, epoch);
            _accepted += a;
            _refused += r;
        }
    }

    /// <summary>The epoch's accepted and refused flips (one read of the device counters on the sync-free path); resets them.</summary>
    public (long Accepted, long Refused) EndEpoch()
    {
        if (_flips is not null)
        {
            var counts = HostReads.Values(_flips);
            _accepted += (long)counts[0];
            _refused += (long)counts[1];
            _flips.zero_();
        }

        var result = (_accepted, _refused);
        (_accepted, _refused) = (0, 0);
        return result;
    }

    /// <summary>Releases the forced indices, the counters and the optimiser's scalars.</summary>
    public void Dispose()
    {
        _flips?.Dispose();
        _one.Dispose();
        _momentum.Dispose();
        _weightDecay.Dispose();
        _plusInfinity.Dispose();
        _minusInfinity.Dispose();
        foreach (var (on, off) in _forced.Values)
        {
            on.Dispose();
            off.Dispose();
        }
    }

    /// <summary>One SGD step on the scores (PyTorch semantics: d = g + wd·s; buf = μ·buf + d; s −= lr·buf).</summary>
    private void StepScores(double lr)
    {
        var o = _options;
        var (masked, state) = (_masked, _state);
        using var step = (-lr).ToScalar();
        foreach (var p in _parameters)
        {
            var weight = p.Weight;
            var s = state.Scores[p.Name];
            var grad = weight.grad;
            if (grad is not null && TryFusedStep(p.Name, s, grad, lr))
            {
                weight.grad = null;
                continue;
            }

            Tensor d = grad is null ? zeros_like(s) : grad.mul(masked.DenseWeight(p.Name));
            if (o.WeightDecay != 0)
            {
                d.add_(s, _weightDecay);
            }

            if (o.Momentum != 0)
            {
                if (state.Momentum.TryGetValue(p.Name, out var buffer))
                {
                    buffer.mul_(_momentum).add_(d, _one);
                }
                else
                {
                    buffer = d.clone().DetachFromDisposeScope();
                    state.Momentum[p.Name] = buffer;
                }

                d = buffer;
            }

            s.add_(d, step);
            if (grad is not null)
            {
                weight.grad = null;
            }
        }
    }

    /// <summary>The same step through <see cref="CpuScoreStep"/> when the tensors are contiguous float32 on the CPU.</summary>
    private bool TryFusedStep(string name, Tensor scores, Tensor gradient, double lr)
    {
        var o = _options;
        var dense = _masked.DenseWeight(name);
        _state.Momentum.TryGetValue(name, out var buffer);
        if (!CpuScoreStep.Applies(scores, gradient, dense, buffer))
        {
            return false;
        }

        bool first = false;
        if (o.Momentum != 0 && buffer is null)
        {
            buffer = empty_like(scores).DetachFromDisposeScope();
            _state.Momentum[name] = buffer;
            first = true;
        }

        CpuScoreStep.Step(scores, gradient, dense, o.Momentum != 0 ? buffer : null, first, (float)o.WeightDecay, (float)o.Momentum, (float)-lr);
        return true;
    }

    private (long Accepted, long Refused) UpdateMask(PrunableParameter p, ILayerSelector tracker, int epoch)
    {
        var masked = _masked;
        var flat = SelectionScores(p);
        var proposal = tracker.Propose(flat, masked.Mask(p.Name).view(-1));
        long pairs = proposal.Pairs;
        if (pairs == 0)
        {
            return (0, 0);
        }

        long m = _options.Restriction.AcceptedPairs(new LayerProposal(p.Name, tracker.Count, tracker.Kept, pairs, proposal.BoundaryTie, epoch, _options.Epochs));
        if (m < 0 || m > pairs)
        {
            throw new InvalidOperationException(
                $"Restriction policy {_options.Restriction.Description} accepted {m} of {pairs} pairs in '{p.Name}'; it must return a number in [0, {pairs}].");
        }

        if (m == 0)
        {
            return (0, 2 * pairs);
        }

        var revive = proposal.Revive;
        var drop = proposal.Drop;
        if (m < pairs)
        {
            // Revive the m highest-scoring proposed revivals, drop the m lowest-scoring proposed drops (N:M: best within-group pairs).
            (revive, drop) = tracker.Restrict(proposal, flat, m);
        }

        if (!masked.TrySwapOnCpu(p.Name, drop, revive))
        {
            masked.SetMaskAt(p.Name, drop, keep: false);
            masked.SetMaskAt(p.Name, revive, keep: true);
        }

        return (2 * m, 2 * (pairs - m));
    }

    /// <summary>The layer's flat scores as the selection sees them (in the current dispose scope).</summary>
    private Tensor SelectionScores(PrunableParameter p)
    {
        var flat = _state.Scores[p.Name].view(-1);
        if (_forced.TryGetValue(p.Name, out var f))
        {
            // Constraint: the selection sees forced-on scores as +∞ and forced-off as −∞ (the stored scores, which
            // the optimiser steps, are left as they are). The top-k of these scores holds every forced-on position
            // and no forced-off one, so the proposed swaps never touch a forced position and a mask that satisfies
            // the constraint keeps satisfying it under any restriction policy.
            flat = flat.clone();
            flat.index_fill_(0, f.On, _plusInfinity);
            flat.index_fill_(0, f.Off, _minusInfinity);
        }

        return flat;
    }

    /// <summary>Forced-on and forced-off flat indices (int64, on <paramref name="device"/>) of every constrained searched weight.</summary>
    private static Dictionary<string, (Tensor On, Tensor Off)> ForcedIndices(MaskSearchOptions options, IReadOnlyList<PrunableParameter> parameters, Device device)
    {
        var result = new Dictionary<string, (Tensor, Tensor)>(StringComparer.Ordinal);
        if (options.Constraint is not { } constraint)
        {
            return result;
        }

        foreach (var p in parameters)
        {
            var on = constraint.ForcedOn(p.Name);
            var off = constraint.ForcedOff(p.Name);
            if (on.Count + off.Count > 0)
            {
                result[p.Name] = (
                    tensor(on.ToArray(), ScalarType.Int64, device).DetachFromDisposeScope(),
                    tensor(off.ToArray(), ScalarType.Int64, device).DetachFromDisposeScope());
            }
        }

        return result;
    }
}
