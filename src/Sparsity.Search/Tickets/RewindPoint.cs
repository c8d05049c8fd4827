namespace Sparsity.Search.Tickets;

/// <summary>Where the surviving weights of a ticket restart after each pruning level.</summary>
public enum RewindKind
{
    /// <summary>Rewind to the initialisation (Frankle &amp; Carbin, ICLR 2019: the original lottery ticket).</summary>
    Initialization,

    /// <summary>Rewind to the weights after epoch k of the dense training (late rewinding, Frankle et al., ICML 2020).</summary>
    Epoch,

    /// <summary>Rewind to the weights after optimiser step k of the dense training (late rewinding, Frankle et al., ICML 2020).</summary>
    Step,

    /// <summary>No rewinding: keep the trained weights and fine-tune at the schedule's final learning rate (Renda et al., ICLR 2020).</summary>
    FineTune,

    /// <summary>Learning-rate rewinding: keep the trained weights and replay the whole schedule (Renda et al., ICLR 2020).</summary>
    LearningRate,
}

/// <summary>
/// The rewind point of iterative pruning: the weights (and schedule position) a pruned network restarts
/// from at every level. Use the factories: <see cref="Initialization"/>, <see cref="AtEpoch"/>,
/// <see cref="AtStep"/>, <see cref="FineTune"/>, <see cref="LearningRateRewinding"/>.
/// </summary>
/// <remarks>
/// Late rewinding (epoch or step k) restores the state captured after k steps of the dense run and resumes
/// the learning-rate schedule at step k, so a level trains the remaining <c>T − k</c> steps, as in
/// open_lth's <c>rewinding_steps</c>. Fine-tuning trains <see cref="IterativeMagnitudePruningOptions"/>'s
/// epochs-per-level at the learning rate of the schedule's last step; learning-rate rewinding trains the
/// full schedule from step 0 starting from the trained weights.
/// </remarks>
/// <param name="Kind">The kind of rewinding.</param>
/// <param name="Value">Epoch or step count for <see cref="RewindKind.Epoch"/> and <see cref="RewindKind.Step"/>; 0 otherwise.</param>
public sealed record RewindPoint(RewindKind Kind, long Value = 0)
{
    /// <summary>Rewind to the initial weights (step 0).</summary>
    public static RewindPoint Initialization { get; } = new(RewindKind.Initialization);

    /// <summary>Keep the trained weights and fine-tune at the final learning rate.</summary>
    public static RewindPoint FineTune { get; } = new(RewindKind.FineTune);

    /// <summary>Keep the trained weights and replay the learning-rate schedule from step 0.</summary>
    public static RewindPoint LearningRateRewinding { get; } = new(RewindKind.LearningRate);

    /// <summary>Rewind to the weights after <paramref name="epoch"/> epochs of dense training (0 = initialisation).</summary>
    /// <param name="epoch">Number of completed dense epochs, in [0, epochs).</param>
    public static RewindPoint AtEpoch(long epoch) => new(RewindKind.Epoch, epoch);

    /// <summary>Rewind to the weights after <paramref name="step"/> optimiser steps of dense training.</summary>
    /// <param name="step">Number of completed dense steps, in [0, total steps).</param>
    public static RewindPoint AtStep(long step) => new(RewindKind.Step, step);

    /// <summary>Whether surviving weights return to a captured state of the dense run (init, epoch k, step k).</summary>
    public bool RewindsWeights => Kind is RewindKind.Initialization or RewindKind.Epoch or RewindKind.Step;

    /// <summary>Parses <c>init</c>, <c>epoch:K</c>, <c>step:K</c>, <c>none</c> / <c>finetune</c>, <c>lr</c>.</summary>
    /// <param name="text">The text form.</param>
    /// <exception cref="FormatException">Not one of the forms above.</exception>
    public static RewindPoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t is "init" or "initialization" or "0")
        {
            return Initialization;
        }

        if (t is "none" or "finetune" or "fine-tune")
        {
            return FineTune;
        }

        if (t is "lr" or "learning-rate")
        {
            return LearningRateRewinding;
        }

        var parts = t.Split(':');
        if (parts.Length == 2 && long.TryParse(parts[1], out var k) && k >= 0)
        {
            if (parts[0] == "epoch")
            {
                return AtEpoch(k);
            }

            if (parts[0] == "step")
            {
                return AtStep(k);
            }
        }

        throw new FormatException($"Unknown rewind point '{text}'; use init, epoch:K, step:K, none or lr.");
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        RewindKind.Initialization => "init",
        RewindKind.Epoch => $"epoch:{Value}",
        RewindKind.Step => $"step:{Value}",
        RewindKind.FineTune => "none",
        _ => "lr",
    };
}
