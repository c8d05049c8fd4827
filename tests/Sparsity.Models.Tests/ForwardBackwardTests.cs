using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Models.Tests;

[Collection(SequentialCollection.Name)]
public class ForwardBackwardTests
{
    public static TheoryData<string> AllNames() => new(ReferenceModels.Names);

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Fashion_mnist_batch_gives_logits_per_class(string name)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        using var model = ReferenceModels.Create(name, 1, 10);
        using var noGrad = torch.no_grad();
        var output = model.call(torch.randn(2, 1, 28, 28));
        output.shape.Should().Equal(2, 10);
        output.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void Cifar_batch_gives_logits_per_class(string name)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        using var model = ReferenceModels.Create(name, 3, 10);
        using var noGrad = torch.no_grad();
        var output = model.call(torch.randn(2, 3, 32, 32));
        output.shape.Should().Equal(2, 10);
        output.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Eval_mode_forward_works_and_is_deterministic()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        using var model = new CifarResNet(20, 3, 10, ResNetShortcut.Projection);
        model.eval();
        var x = torch.randn(2, 3, 32, 32);
        using var noGrad = torch.no_grad();
        var first = model.call(x);
        var second = model.call(x);
        first.eq(second).all().item<bool>().Should().BeTrue();
    }

    public static TheoryData<string, int, int> BackwardCases() => new()
    {
        { "lenet300", 1, 28 },
        { "lenet5", 1, 28 },
        { "vgg11", 3, 32 },
        { "resnet20", 3, 32 },
        { "resnet18", 1, 28 },
    };

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void Backward_reaches_every_parameter(string name, int channels, int side)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(4);
        using var model = ReferenceModels.Create(name, channels, 10);
        var loss = nn.functional.cross_entropy(model.call(torch.randn(2, channels, side, side)), torch.tensor(new long[] { 3, 7 }));
        loss.backward();
        foreach (var (paramName, parameter) in model.named_parameters())
        {
            var grad = parameter.grad;
            grad.Should().NotBeNull(because: $"{paramName} takes part in the forward pass");
            grad!.shape.Should().Equal(parameter.shape);
            grad.isfinite().all().item<bool>().Should().BeTrue(because: $"{paramName} has a finite gradient");
            grad.abs().sum().item<float>().Should().BeGreaterThan(0f, because: $"{paramName} receives gradient");
        }
    }

    [Fact]
    public void Option_B_projection_receives_gradient()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        using var model = new CifarResNet(20, 3, 10, ResNetShortcut.Projection);
        var loss = nn.functional.cross_entropy(model.call(torch.randn(2, 3, 32, 32)), torch.tensor(new long[] { 0, 9 }));
        loss.backward();
        var grad = model.named_parameters().Single(p => p.name == "layer3.0.shortcut.0.weight").parameter.grad;
        grad.Should().NotBeNull();
        grad!.abs().sum().item<float>().Should().BeGreaterThan(0f);
    }

    [Fact]
    public void Option_A_shortcut_is_the_subsampled_identity_padded_with_zero_channels()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(6);
        using var block = new CifarBasicBlock(16, 32, 2, ResNetShortcut.ZeroPadIdentity);
        using (torch.no_grad())
        {
            foreach (var (_, p) in block.named_parameters().Where(p => p.name.StartsWith("conv")))
                p.zero_();
        }
        // With zero convolutions the residual branch is BN(0) = bias 0, so the block returns ReLU(shortcut(x)).
        var x = torch.randn(2, 16, 8, 8);
        using var noGrad = torch.no_grad();
        var y = block.call(x);
        y.shape.Should().Equal(2, 32, 4, 4);

        var xs = x.data<float>().ToArray();
        var ys = y.data<float>().ToArray();
        for (var n = 0; n < 2; n++)
            for (var c = 0; c < 32; c++)
                for (var i = 0; i < 4; i++)
                    for (var j = 0; j < 4; j++)
                    {
                        var source = c - 8; // 8 zero channels before, 8 after
                        var expected = source is >= 0 and < 16
                            ? Math.Max(0f, xs[((n * 16 + source) * 8 + 2 * i) * 8 + 2 * j])
                            : 0f;
                        ys[((n * 32 + c) * 4 + i) * 4 + j].Should().BeApproximately(expected, 1e-6f);
                    }
    }

    [Fact]
    public void Identity_blocks_add_the_input()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(7);
        using var cifar = new CifarBasicBlock(16, 16, 1, ResNetShortcut.ZeroPadIdentity);
        using var basic = new BasicBlock(16, 16, 1, null);
        using var bottleneck = new Bottleneck(64, 16, 1, null);
        foreach (var block in new nn.Module<Tensor, Tensor>[] { cifar, basic, bottleneck })
        {
            using (torch.no_grad())
            {
                foreach (var (_, p) in block.named_parameters().Where(p => p.name.StartsWith("conv")))
                    p.zero_();
            }
            var channels = block == bottleneck ? 64 : 16;
            var x = torch.randn(2, channels, 6, 6);
            using var noGrad = torch.no_grad();
            var y = block.call(x);
            y.allclose(x.relu(), rtol: 0, atol: 1e-6).Should().BeTrue();
        }
    }
    [Theory]
    [MemberData(nameof(AllNames))]
    public void Moving_to_another_dtype_reaches_every_parameter_and_buffer(string name)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(8);
        using var model = ReferenceModels.Create(name, 1, 10);
        model.to(ScalarType.Float64);
        model.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float64);
        model.named_buffers().Where(b => !b.name.EndsWith("num_batches_tracked"))
            .Should().NotContain(b => b.buffer.dtype != ScalarType.Float64);
        using var noGrad = torch.no_grad();
        var output = model.call(torch.randn(2, 1, 28, 28, dtype: ScalarType.Float64));
        output.dtype.Should().Be(ScalarType.Float64);
        output.shape.Should().Equal(2, 10);
    }
}
