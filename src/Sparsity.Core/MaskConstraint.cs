using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// Positions of a mask that are forced on (kept) or forced off (pruned), per parameter, addressed by flat
/// (row-major) element index. A mask search or an embedding honours the constraint; <see cref="Apply"/>
/// forces the positions and then rebalances each layer so that its kept count is unchanged.
/// </summary>
/// <remarks>
/// Used by ownership signatures (Chen et al., NeurIPS 2021, Algorithm 2: signature cells forced on/off in a
/// ticket's mask) so that a searched mask can carry a signature without weight retraining. Immutable.
/// </remarks>
public sealed class MaskConstraint
{
    private static readonly long[] None = [];
    private readonly Dictionary<string, long[]> _on;
    private readonly Dictionary<string, long[]> _off;
    private readonly List<string> _names;

    /// <summary>Creates a constraint.</summary>
    /// <param name="forcedOn">Parameter name → flat indices that must be kept.</param>
    /// <param name="forcedOff">Parameter name → flat indices that must be pruned.</param>
    /// <exception cref="ArgumentException">An empty name, a negative index, or an index both forced on and off.</exception>
    public MaskConstraint(
        IEnumerable<KeyValuePair<string, IReadOnlyCollection<long>>> forcedOn,
        IEnumerable<KeyValuePair<string, IReadOnlyCollection<long>>> forcedOff)
    {
        ArgumentNullException.ThrowIfNull(forcedOn);
        ArgumentNullException.ThrowIfNull(forcedOff);
        _on = Collect(forcedOn, nameof(forcedOn));
        _off = Collect(forcedOff, nameof(forcedOff));
        _names = _on.Keys.Concat(_off.Keys).Distinct(StringComparer.Ordinal).ToList();
        foreach (var name in _names)
        {
            var off = new HashSet<long>(ForcedOff(name));
            var clash = ForcedOn(name).FirstOrDefault(off.Contains, -1);
            if (clash >= 0)
            {
                throw new ArgumentException(
                    $"Position {clash} of '{name}' is forced both on and off; a constraint must be consistent.", nameof(forcedOff));
            }
        }
    }

    /// <summary>Names of the constrained parameters (those with at least one forced position).</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Total number of forced-on positions.</summary>
    public long ForcedOnCount => _on.Values.Sum(a => (long)a.Length);

    /// <summary>Total number of forced-off positions.</summary>
    public long ForcedOffCount => _off.Values.Sum(a => (long)a.Length);

    /// <summary>Forced-on flat indices of one parameter (sorted, distinct; empty when none).</summary>
    /// <param name="name">The parameter's state-dict key.</param>
    public IReadOnlyList<long> ForcedOn(string name) => _on.TryGetValue(name, out var a) ? a : None;

    /// <summary>Forced-off flat indices of one parameter (sorted, distinct; empty when none).</summary>
    /// <param name="name">The parameter's state-dict key.</param>
    public IReadOnlyList<long> ForcedOff(string name) => _off.TryGetValue(name, out var a) ? a : None;

    /// <summary>
    /// Checks that every constrained parameter exists in <paramref name="masks"/>, that every index lies inside
    /// it, and that each layer's kept count can be preserved (forced-on ≤ kept ≤ size − forced-off).
    /// </summary>
    /// <param name="masks">The masks the constraint will be applied to.</param>
    /// <exception cref="ArgumentException">The message lists every problem.</exception>
    public void Validate(MaskSet masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        var problems = new List<string>();
        foreach (var name in _names)
        {
            if (!masks.Contains(name))
            {
                problems.Add($"'{name}' is not in the mask set");
                continue;
            }

            long n = masks[name].numel();
            long kept = masks.KeptIn(name);
            var on = ForcedOn(name);
            var off = ForcedOff(name);
            if ((on.Count > 0 && on[^1] >= n) || (off.Count > 0 && off[^1] >= n))
            {
                problems.Add($"'{name}' has {n} elements but an index reaches {Math.Max(on.Count > 0 ? on[^1] : 0, off.Count > 0 ? off[^1] : 0)}");
                continue;
            }

            if (on.Count > kept)
            {
                problems.Add($"'{name}' keeps {kept} weights but {on.Count} are forced on");
            }

            if (kept > n - off.Count)
            {
                problems.Add($"'{name}' keeps {kept} of {n} weights but {off.Count} are forced off");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"The mask constraint does not fit the masks: {string.Join("; ", problems)}.", nameof(masks));
        }
    }

    /// <summary>Number of constrained positions that <paramref name="masks"/> does not honour.</summary>
    /// <param name="masks">Masks over (at least) the constrained parameters.</param>
    /// <exception cref="ArgumentException">See <see cref="Validate"/>.</exception>
    public long Violations(MaskSet masks)
    {
        Validate(masks);
        long bad = 0;
        foreach (var name in _names)
        {
            var values = Flat(masks[name]);
            bad += ForcedOn(name).Count(i => !values[i]) + ForcedOff(name).Count(i => values[i]);
        }

        return bad;
    }

    /// <summary>Whether <paramref name="masks"/> honours every forced position.</summary>
    /// <param name="masks">Masks over (at least) the constrained parameters.</param>
    public bool IsSatisfiedBy(MaskSet masks) => Violations(masks) == 0;

    /// <summary>
    /// Returns a new mask set in which every forced position holds its value and every constrained layer keeps
    /// exactly as many weights as before. Rebalance rule: if forcing removed <c>Δ</c> kept weights from a layer,
    /// <c>Δ</c> unconstrained pruned positions of that layer are switched on; if it added <c>Δ</c>, <c>Δ</c>
    /// unconstrained kept positions are switched off. Positions are taken by <paramref name="priority"/>
    /// (highest score switched on first, lowest switched off first; ties by index) when given, otherwise uniformly at
    /// random with <paramref name="seed"/>. Unconstrained layers are copied unchanged.
    /// </summary>
    /// <param name="masks">The masks to constrain (not modified).</param>
    /// <param name="seed">Seed of the random rebalance (ignored when <paramref name="priority"/> is given).</param>
    /// <param name="priority">Optional per-position scores (for example |W|) steering the rebalance.</param>
    /// <exception cref="ArgumentException">See <see cref="Validate"/>; or <paramref name="priority"/> lacks a layer or has another shape.</exception>
    public MaskSet Apply(MaskSet masks, int seed = 0, ScoreSet? priority = null)
    {
        Validate(masks);
        var random = new Random(seed);
        var result = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, mask) in masks.Entries)
        {
            if (!_names.Contains(name, StringComparer.Ordinal))
            {
                result.Add(KeyValuePair.Create(name, mask.detach().clone().DetachFromDisposeScope()));
                continue;
            }

            var values = Flat(mask);
            long kept = masks.KeptIn(name);
            var isForced = new bool[values.Length];
            foreach (var i in ForcedOn(name))
            {
                values[i] = true;
                isForced[i] = true;
            }

            foreach (var i in ForcedOff(name))
            {
                values[i] = false;
                isForced[i] = true;
            }

            long now = values.LongCount(v => v);
            if (now != kept)
            {
                bool switchOn = now < kept;
                var candidates = new List<long>();
                for (long i = 0; i < values.Length; i++)
                {
                    if (!isForced[i] && values[i] != switchOn)
                    {
                        candidates.Add(i);
                    }
                }

                int need = (int)Math.Abs(kept - now);
                foreach (var i in Choose(candidates, need, switchOn, name, mask, priority, random))
                {
                    values[i] = switchOn;
                }
            }

            using var flat = tensor(values, ScalarType.Bool);
            using var shaped = flat.reshape(mask.shape);
            result.Add(KeyValuePair.Create(name, shaped.to(mask.device).clone().DetachFromDisposeScope()));
        }

        return new MaskSet(result);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"MaskConstraint({_names.Count} parameters, {ForcedOnCount} forced on, {ForcedOffCount} forced off)";

    private static IEnumerable<long> Choose(
        List<long> candidates, int need, bool switchOn, string name, Tensor mask, ScoreSet? priority, Random random)
    {
        if (priority is not null)
        {
            if (!priority.Contains(name) || !priority[name].shape.SequenceEqual(mask.shape))
            {
                throw new ArgumentException($"The priority scores have no tensor of shape [{string.Join(", ", mask.shape)}] for '{name}'.", nameof(priority));
            }

            using var cpu = priority[name].detach().to(ScalarType.Float64).cpu().flatten();
            var scores = cpu.data<double>().ToArray();
            var ordered = switchOn
                ? candidates.OrderByDescending(i => scores[i]).ThenBy(i => i)
                : candidates.OrderBy(i => scores[i]).ThenBy(i => i);
            return ordered.Take(need).ToList();
        }

        // Partial Fisher–Yates: the first `need` entries become a uniform sample without replacement.
        for (int k = 0; k < need; k++)
        {
            int j = k + random.Next(candidates.Count - k);
            (candidates[k], candidates[j]) = (candidates[j], candidates[k]);
        }

        return candidates.Take(need).ToList();
    }

    private static bool[] Flat(Tensor mask)
    {
        using var cpu = mask.detach().cpu().flatten();
        return cpu.data<bool>().ToArray();
    }

    private static Dictionary<string, long[]> Collect(
        IEnumerable<KeyValuePair<string, IReadOnlyCollection<long>>> entries, string paramName)
    {
        var byName = new Dictionary<string, SortedSet<long>>(StringComparer.Ordinal);
        foreach (var (name, indices) in entries)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException("A constrained parameter has an empty name.", paramName);
            }

            ArgumentNullException.ThrowIfNull(indices, paramName);
            if (!byName.TryGetValue(name, out var set))
            {
                byName[name] = set = [];
            }

            foreach (var i in indices)
            {
                if (i < 0)
                {
                    throw new ArgumentException($"Index {i} of '{name}' is negative; indices are flat element positions ≥ 0.", paramName);
                }

                set.Add(i);
            }
        }

        return byName.Where(e => e.Value.Count > 0).ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }
}
