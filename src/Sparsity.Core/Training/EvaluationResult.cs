namespace Sparsity.Training;

/// <summary>The outcome of <see cref="Evaluator.Evaluate"/>.</summary>
/// <param name="Accuracy">Top-1 accuracy in percent (100 · Correct / Count).</param>
/// <param name="Loss">Mean cross-entropy per example.</param>
/// <param name="Correct">Examples whose highest logit is the label (ties: the lowest index wins, as in <c>argmax</c>).</param>
/// <param name="Count">Examples evaluated.</param>
public sealed record EvaluationResult(double Accuracy, double Loss, long Correct, long Count);
