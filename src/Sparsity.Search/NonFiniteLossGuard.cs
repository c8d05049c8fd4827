using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// Finds the first batch of an epoch whose training loss is NaN or ±∞ without adding a device-to-host
/// synchronisation per step: the batch index is recorded in a scalar on the loss's device and read only where
/// the search already reads (progress reports, end of epoch). On CPU, where reading a scalar costs no
/// synchronisation, it is read at every step, so the search stops at the bad batch before updating anything.
/// </summary>
internal sealed class NonFiniteLossGuard : IDisposable
{
    private readonly Tensor _firstBad;
    private readonly bool _eager;
    private readonly int _epoch;

    /// <param name="device">Device of the losses.</param>
    /// <param name="epoch">Zero-based epoch (messages say epoch + 1).</param>
    public NonFiniteLossGuard(Device device, int epoch)
    {
        _firstBad = full(Array.Empty<long>(), -1L, ScalarType.Int64, device).DetachFromDisposeScope();
        _eager = device.type == TorchSharp.DeviceType.CPU;
        _epoch = epoch;
    }

    /// <summary>Notes the loss of batch <paramref name="batch"/> (zero-based); on CPU throws at once if it is not finite.</summary>
    public void Record(Tensor loss, long batch)
    {
        using (var scope = NewDisposeScope())
        {
            using var noGrad = no_grad();
            // Scalars disposed here, not left to the finalizer (one per step would pile up between collections).
            using var zero = 0.ToScalar();
            using var index = batch.ToScalar();
            var first = loss.detach().isfinite().logical_not().logical_and(_firstBad.lt(zero));
            _firstBad.masked_fill_(first, index);
        }

        if (_eager)
        {
            ThrowIfSeen();
        }
    }

    /// <summary>Throws if any batch recorded so far had a non-finite loss (reads one scalar).</summary>
    /// <exception cref="InvalidOperationException">The message names the epoch and the batch.</exception>
    public void ThrowIfSeen()
    {
        long batch = _firstBad.item<long>();
        if (batch >= 0)
        {
            throw new InvalidOperationException(
                $"The training loss is NaN or ±∞ at epoch {_epoch + 1}, batch {batch} (zero-based, in this epoch's shuffled order); " +
                "the search diverged there. Check that batch's inputs and the model's weights for non-finite values, or lower LearningRate.");
        }
    }

    public void Dispose() => _firstBad.Dispose();
}
