using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>Everything a run needs to continue: scores, momentum, masks, thresholds, history.</summary>
internal sealed class SearchState : IDisposable
{
    private SearchState(MaskSet initialMasks, MaskSet masks)
    {
        InitialMasks = initialMasks;
        Masks = masks;
    }

    public Dictionary<string, Tensor> Scores { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Tensor> Momentum { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, ILayerSelector> Trackers { get; } = new(StringComparer.Ordinal);

    public MaskSet InitialMasks { get; }

    /// <summary>Masks at the start of the run (or resume); the live masks are in the <see cref="MaskedModel"/>.</summary>
    public MaskSet Masks { get; }

    public List<SearchEpoch> History { get; } = [];

    public int EpochsDone { get; set; }

    /// <summary>SHA-256 of every searched dense weight (checked on resume).</summary>
    public Dictionary<string, string> WeightDigests { get; set; } = new(StringComparer.Ordinal);

    public SelectionStatistics PriorStatistics { get; set; } = new(0, 0, 0);

    /// <summary>The N:M pattern of a semi-structured search (per-group selection), or null for per-layer top-k.</summary>
    public NMPattern? Pattern { get; private init; }

    public static SearchState Start(InitialMask start, MaskSet initial, IReadOnlyList<PrunableParameter> parameters, Device device, NMPattern? pattern = null)
    {
        var state = new SearchState(initial.Clone(device), start.Mask.Clone(device)) { Pattern = pattern };
        foreach (var p in parameters)
        {
            state.Scores[p.Name] = start.Scores[p.Name].detach().to(ScalarType.Float32).to(device).contiguous().clone().DetachFromDisposeScope();
            state.AddTracker(p);
        }

        return state;
    }

    public static SearchState FromParts(MaskSet initial, MaskSet masks, IReadOnlyList<PrunableParameter> parameters, NMPattern? pattern = null)
    {
        var state = new SearchState(initial, masks) { Pattern = pattern };
        foreach (var p in parameters)
        {
            state.AddTracker(p);
        }

        return state;
    }

    public MaskSet CurrentMasks() => Masks.Clone();

    public ScoreSet CloneScores() => new(Scores.Select(e => KeyValuePair.Create(e.Key, e.Value.detach().clone().DetachFromDisposeScope())).ToList());

    public SelectionStatistics Statistics() => new(
        PriorStatistics.CountHits + Trackers.Values.Sum(t => t.CountHits),
        PriorStatistics.BandHits + Trackers.Values.Sum(t => t.BandHits),
        PriorStatistics.ExactSelections + Trackers.Values.Sum(t => t.ExactSelections));

    public void Dispose()
    {
        foreach (var t in Scores.Values.Concat(Momentum.Values))
        {
            t.Dispose();
        }

        foreach (var t in Trackers.Values)
        {
            t.Dispose();
        }

        InitialMasks.Dispose();
        Masks.Dispose();
    }

    /// <summary>Use the tensor selector even on CPU (tests compare both paths).</summary>
    public static bool ForceTensorSelector { get; set; }

    /// <summary>Use the sync-free mask update (<see cref="SyncFreeMaskUpdate"/>) even on CPU (tests compare both paths and count host reads).</summary>
    public static bool ForceSyncFreeUpdate { get; set; }

    private void AddTracker(PrunableParameter p)
    {
        long kept = Masks.KeptIn(p.Name);
        if (Pattern is { } pattern && kept < p.Count)
        {
            Trackers[p.Name] = new NMLayerSelector(pattern, p.Name, p.Shape);
        }
        else if (kept > 0)
        {
            var onCpu = Masks[p.Name].device.type == TorchSharp.DeviceType.CPU;
            Trackers[p.Name] = onCpu && !ForceTensorSelector && p.Count <= int.MaxValue
                ? new CpuThresholdTracker(p.Count, kept)
                : new ThresholdTracker(p.Count, kept);
        }
    }
}
