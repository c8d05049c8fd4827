using System.Text.Json;
using Sparsity.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests.IO;

public sealed class SemiStructuredExportTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sparsity-nm-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static nn.Module<Tensor, Tensor> Model()
    {
        var model = nn.Sequential(
            ("conv", nn.Conv2d(2, 3, 2)), ("flat", nn.Flatten()),
            ("fc", nn.Linear(12, 4)), ("act", nn.ReLU()), ("out", nn.Linear(4, 2)));
        TestModels.FillDistinct(model);
        return model;
    }

    private static MaskSet Masks(nn.Module model, bool outDense = true)
    {
        var parameters = new ParameterSelector(new ParameterSelectorOptions()).Select(model);
        using var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
        return new NMAllocation(NMPattern.TwoFour, keepIncompatibleLayersDense: outDense).Allocate(scores, 0.5);
    }

    [Fact]
    public void WritesTheMaskedWeightAndMaskAsOutByFlattenedInputMatricesWithThePattern()
    {
        using var model = Model();
        using var masks = Masks(model);
        masks.KeptIn("out.weight").Should().Be(4, "rows of 4 fit 2:4, so every layer is N:M here");
        var path = Path.Combine(_folder, "nm.safetensors");
        SemiStructuredExport.Save(path, model, masks, NMPattern.TwoFour);

        using var reader = SafeTensorsReader.Open(path);
        reader.Metadata.Should().Contain("format", SemiStructuredExport.FormatName).And.Contain("pattern", "2:4");
        var shapes = JsonSerializer.Deserialize<Dictionary<string, long[]>>(reader.Metadata["layers"])!;
        shapes["conv.weight"].Should().Equal(3, 2, 2, 2);
        using var w = reader.ReadTensor("conv.weight");
        using var m = reader.ReadTensor("conv.weight_mask");
        w.shape.Should().Equal(3, 8);
        m.shape.Should().Equal(3, 8);
        m.dtype.Should().Be(ScalarType.Bool);
        var weight = model.named_parameters().First(p => p.name == "conv.weight").parameter;
        using var expected = weight.detach().mul(masks["conv.weight"]).reshape(3, 8);
        TestModels.Same(w, expected).Should().BeTrue();
        TestModels.Same(m, masks["conv.weight"].reshape(3, 8)).Should().BeTrue();

        // The 2:4 property PyTorch's to_sparse_semi_structured relies on: ≤ 2 nonzeros in every 4 along the last dim.
        using var nonzero = w.ne(0).reshape(3, 2, 4).sum(2);
        nonzero.le(2).all().item<bool>().Should().BeTrue();
        using var fc = reader.ReadTensor("fc.weight_mask");
        NMPattern.TwoFour.Violations(fc).Should().Be(0);
    }

    [Fact]
    public void DenseLayersAreListedNotWrittenAndABrokenMaskLeavesNoFile()
    {
        using var model = Model();
        using var masks = Masks(model);
        var parts = masks.Entries.Select(e => KeyValuePair.Create(e.Key, e.Key == "out.weight" ? ones_like(e.Value) : e.Value.clone())).ToList();
        using var withDense = new MaskSet(parts);
        var path = Path.Combine(_folder, "dense.safetensors");
        SemiStructuredExport.Save(path, model, withDense, NMPattern.TwoFour);
        using (var reader = SafeTensorsReader.Open(path))
        {
            reader.Contains("out.weight").Should().BeFalse();
            JsonSerializer.Deserialize<string[]>(reader.Metadata["dense_layers"]).Should().Equal("out.weight");
        }

        var broken = masks.Entries.Select(e => KeyValuePair.Create(e.Key, e.Value.clone())).ToList();
        broken[1].Key.Should().Be("fc.weight");
        broken[1].Value.view(-1).narrow(0, 0, 4).fill_(true); // the first group keeps 4 of 4
        using var bad = new MaskSet(broken);
        var badPath = Path.Combine(_folder, "bad.safetensors");
        var act = () => SemiStructuredExport.Save(badPath, model, bad, NMPattern.TwoFour);
        var e = act.Should().Throw<ArgumentException>().Which;
        e.ParamName.Should().Be("masks");
        e.Message.Should().Contain("fc.weight").And.Contain("2:4");
        File.Exists(badPath).Should().BeFalse();
        Directory.GetFiles(_folder).Should().HaveCount(1);
    }
}
