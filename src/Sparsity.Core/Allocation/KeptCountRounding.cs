namespace Sparsity;

/// <summary>
/// How a sparsity p turns into a kept count out of n weights (<see cref="SparsityBudget.KeptCount"/>). The
/// three rules agree whenever p·n is an integer; otherwise they can differ by one weight.
/// </summary>
public enum KeptCountRounding
{
    /// <summary>
    /// PyTorch's rule (default): prune <c>round(p·n)</c>, keep the rest — exactly what <c>torch.nn.utils.prune</c>
    /// computes for a float <c>amount</c> (<c>_compute_nparams_toprune</c>: Python's <c>round</c>, half to even, of the
    /// float64 product), so a mask computed here from the same scores equals PyTorch's. The product is the float64
    /// one, as in PyTorch: 1500 weights at p = 0.009 give 13.499999999999998, so 13 are pruned (exact arithmetic
    /// would say 13.5 and prune 14). At p close to 1 a small layer can keep nothing (round(0.99 · 3) = 3 pruned),
    /// as in PyTorch.
    /// </summary>
    PyTorch = 0,

    /// <summary>
    /// The official Lottery Jackpots rule (<c>cifar.py</c>, <c>generate_pr_cfg</c>): keep <c>int(n · (1 − p))</c>, computed
    /// in float64 exactly as Python computes it (1 − p rounded to float64, times n, rounded, truncated), float
    /// artifacts included: 10 weights at p = 0.9 keep int(0.9999999999999998) = 0.
    /// </summary>
    LotteryJackpots = 1,

    /// <summary>
    /// The library's rule before PyTorch's became the default: keep <c>n − ⌊p·n⌋</c> in decimal arithmetic, so
    /// that the kept fraction is never below 1 − p and, since p &lt; 1, every non-empty layer keeps a weight.
    /// </summary>
    FloorPruned = 2,
}
