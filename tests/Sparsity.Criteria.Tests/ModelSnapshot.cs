using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

/// <summary>Everything a criterion must leave unchanged: parameter objects, values, grads, requires_grad, buffers, modes.</summary>
internal sealed class ModelSnapshot : IDisposable
{
    private readonly List<(string Name, IntPtr Handle, Tensor Value, bool RequiresGrad, Tensor? Grad, ScalarType DType)> _parameters = [];
    private readonly List<(string Name, IntPtr Handle, Tensor Value, ScalarType DType)> _buffers = [];
    private readonly List<(string Name, bool Training)> _modes = [];

    public ModelSnapshot(nn.Module model)
    {
        foreach (var (name, p) in model.named_parameters())
        {
            var grad = p.grad;
            _parameters.Add((name, p.Handle, p.detach().clone(), p.requires_grad, grad is null ? null : grad.detach().clone(), p.dtype));
        }

        foreach (var (name, b) in model.named_buffers())
        {
            _buffers.Add((name, b.Handle, b.detach().clone(), b.dtype));
        }

        _modes.Add((string.Empty, model.training));
        _modes.AddRange(model.named_modules().Select(m => (m.name, m.module.training)));
    }

    public void AssertUnchanged(nn.Module model)
    {
        var parameters = model.named_parameters().ToList();
        parameters.Select(p => p.name).Should().Equal(_parameters.Select(p => p.Name));
        for (int i = 0; i < parameters.Count; i++)
        {
            var (name, p) = parameters[i];
            var snap = _parameters[i];
            p.Handle.Should().Be(snap.Handle, $"parameter object {name} must be the same");
            p.dtype.Should().Be(snap.DType, name);
            p.requires_grad.Should().Be(snap.RequiresGrad, $"requires_grad of {name}");
            Same(p.detach(), snap.Value).Should().BeTrue($"values of {name} must be unchanged");
            var grad = p.grad;
            if (snap.Grad is null)
            {
                (grad is null || grad.Handle == IntPtr.Zero).Should().BeTrue($"{name} had no grad");
            }
            else
            {
                grad.Should().NotBeNull();
                Same(grad!, snap.Grad).Should().BeTrue($"grad of {name} must be unchanged");
            }
        }

        var buffers = model.named_buffers().ToList();
        buffers.Select(b => b.name).Should().Equal(_buffers.Select(b => b.Name));
        for (int i = 0; i < buffers.Count; i++)
        {
            buffers[i].buffer.Handle.Should().Be(_buffers[i].Handle, buffers[i].name);
            buffers[i].buffer.dtype.Should().Be(_buffers[i].DType, buffers[i].name);
            Same(buffers[i].buffer, _buffers[i].Value).Should().BeTrue($"buffer {buffers[i].name} must be unchanged");
        }

        var modes = new List<(string, bool)> { (string.Empty, model.training) };
        modes.AddRange(model.named_modules().Select(m => (m.name, m.module.training)));
        modes.Should().Equal(_modes);
    }

    private static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
    }

    public void Dispose()
    {
        foreach (var p in _parameters)
        {
            p.Value.Dispose();
            p.Grad?.Dispose();
        }

        foreach (var b in _buffers)
        {
            b.Value.Dispose();
        }
    }
}
