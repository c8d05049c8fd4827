using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

[Collection(SequentialCollection.Name)]
public sealed class ModelWorkingCopyTests
{
    [Fact]
    public void Float64CopiesAreUsedAndOriginalsReturn()
    {
        torch.manual_seed(1);
        using var model = nn.Sequential(
            ("conv", nn.Conv2d(1, 2, 3)), ("bn", nn.BatchNorm2d(2)), ("relu", nn.ReLU()),
            ("flat", nn.Flatten()), ("fc", nn.Linear(2 * 4 * 4, 3)));
        model.train();
        var before = model.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        var bufsBefore = model.named_buffers().Select(b => (b.name, b.buffer)).ToList();
        using var x = torch.ones(1, 1, 6, 6);
        using var y32 = model.forward(x);
        using (var copy = ModelWorkingCopy.Create(model, ScalarType.Float64))
        {
            model.eval();
            using var x64 = torch.ones(1, 1, 6, 6, dtype: ScalarType.Float64);
            using var y = model.forward(x64);
            y.dtype.Should().Be(ScalarType.Float64);
            model.named_parameters().Select(p => p.name).Should().Equal(before.Select(b => b.name));
            model.named_parameters().All(p => p.parameter.dtype == ScalarType.Float64).Should().BeTrue();
        }
        model.training.Should().BeTrue();
        model.named_parameters().Select(p => (p.name, p.parameter)).Should().Equal(before);
        model.named_buffers().Select(b => (b.name, b.buffer)).Should().Equal(bufsBefore);
        model.named_buffers().Single(b => b.name == "bn.num_batches_tracked").buffer.dtype.Should().Be(ScalarType.Int64);
        using var y2 = model.forward(x);
        y2.dtype.Should().Be(ScalarType.Float32);
    }
}
