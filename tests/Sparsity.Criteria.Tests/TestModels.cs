using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

/// <summary>Small models with fixed weights and a hand-written reference for the 3-2-2 MLP.</summary>
internal static class TestModels
{
    // 3-2-2 MLP: h = relu(W1 x + b1), z = W2 h + b2. Hidden unit 1 is negative for example 2 (ReLU gate closed).
    public static readonly double[,] W1 = { { 0.5, -0.3, 0.8 }, { -0.6, 0.4, 0.2 } };
    public static readonly double[] B1 = { 0.1, -0.05 };
    public static readonly double[,] W2 = { { 0.7, -0.9 }, { -0.4, 0.6 } };
    public static readonly double[] B2 = { 0.05, -0.02 };
    public static readonly double[,] X = { { 1.0, 0.5, -0.2 }, { 0.3, -0.7, 0.9 }, { -0.5, 0.2, 0.4 }, { 0.8, 0.1, 0.6 } };
    public static readonly long[] Y = { 0, 1, 1, 0 };

    public static Sequential Mlp322()
    {
        var fc1 = nn.Linear(3, 2, dtype: ScalarType.Float64);
        var fc2 = nn.Linear(2, 2, dtype: ScalarType.Float64);
        using (no_grad())
        {
            fc1.weight!.copy_(tensor(W1));
            fc1.bias!.copy_(tensor(B1));
            fc2.weight!.copy_(tensor(W2));
            fc2.bias!.copy_(tensor(B2));
        }

        return nn.Sequential(("fc1", fc1), ("relu", nn.ReLU()), ("fc2", fc2));
    }

    public static Sparsity.Data.Batch MlpBatch(int from = 0, int count = 4) =>
        new(tensor(Rows(X, from, count)).reshape(count, 3), tensor(Y.Skip(from).Take(count).ToArray()));

    private static double[] Rows(double[,] a, int from, int count)
    {
        var r = new double[count * a.GetLength(1)];
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < a.GetLength(1); j++)
            {
                r[(i * a.GetLength(1)) + j] = a[from + i, j];
            }
        }

        return r;
    }

    /// <summary>
    /// Hand-derived gradient of the mean cross-entropy of (W2 relu(W1 x + b1) + b2)/T over examples
    /// [from, from+count) with respect to W1 (2×3) and W2 (2×2), flattened row-major and concatenated (10 values).
    /// </summary>
    public static double[] MlpGradient(double[] w, double temperature, int from = 0, int count = 4)
    {
        var g = new double[10];
        for (int n = from; n < from + count; n++)
        {
            var pre = new double[2];
            var h = new double[2];
            for (int j = 0; j < 2; j++)
            {
                pre[j] = B1[j];
                for (int i = 0; i < 3; i++)
                {
                    pre[j] += w[(j * 3) + i] * X[n, i];
                }

                h[j] = Math.Max(0, pre[j]);
            }

            var z = new double[2];
            for (int k = 0; k < 2; k++)
            {
                z[k] = B2[k];
                for (int j = 0; j < 2; j++)
                {
                    z[k] += w[6 + (k * 2) + j] * h[j];
                }

                z[k] /= temperature;
            }

            var max = Math.Max(z[0], z[1]);
            var e0 = Math.Exp(z[0] - max);
            var e1 = Math.Exp(z[1] - max);
            var p = new[] { e0 / (e0 + e1), e1 / (e0 + e1) };
            var dz = new double[2];
            for (int k = 0; k < 2; k++)
            {
                dz[k] = (p[k] - (Y[n] == k ? 1 : 0)) / temperature / count;
            }

            for (int k = 0; k < 2; k++)
            {
                for (int j = 0; j < 2; j++)
                {
                    g[6 + (k * 2) + j] += dz[k] * h[j];
                }
            }

            for (int j = 0; j < 2; j++)
            {
                var dh = pre[j] > 0 ? (w[6 + j] * dz[0]) + (w[6 + 2 + j] * dz[1]) : 0.0;
                for (int i = 0; i < 3; i++)
                {
                    g[(j * 3) + i] += dh * X[n, i];
                }
            }
        }

        return g;
    }

    public static double[] MlpWeights() =>
        [W1[0, 0], W1[0, 1], W1[0, 2], W1[1, 0], W1[1, 1], W1[1, 2], W2[0, 0], W2[0, 1], W2[1, 0], W2[1, 1]];

    public static double[] Flat(ScoreSet scores, params string[] names) =>
        names.SelectMany(n => scores[n].cpu().to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();

    public static IReadOnlyList<PrunableParameter> Select(nn.Module model) => new ParameterSelector().Select(model);
}

/// <summary>LeNet-5-like conv net (with BatchNorm) for 1×28×28 inputs.</summary>
internal sealed class LeNet5 : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1 = nn.Conv2d(1, 6, 5, padding: 2);
    private readonly BatchNorm2d bn1 = nn.BatchNorm2d(6);
    private readonly Conv2d conv2 = nn.Conv2d(6, 16, 5);
    private readonly Linear fc1 = nn.Linear(400, 120);
    private readonly Linear fc2 = nn.Linear(120, 84);
    private readonly Linear fc3 = nn.Linear(84, 10);

    public LeNet5()
        : base(nameof(LeNet5))
    {
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.max_pool2d(nn.functional.relu(bn1.forward(conv1.forward(x))), 2);
        y = nn.functional.max_pool2d(nn.functional.relu(conv2.forward(y)), 2);
        y = y.flatten(1);
        y = nn.functional.relu(fc1.forward(y));
        y = nn.functional.relu(fc2.forward(y));
        return fc3.forward(y).MoveToOuterDisposeScope();
    }
}
