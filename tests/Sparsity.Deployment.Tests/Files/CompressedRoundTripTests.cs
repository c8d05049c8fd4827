using Sparsity.Deployment.Files;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Tests.Files;

public sealed class CompressedRoundTripTests
{
    [Theory]
    [InlineData(0.98, WeightEncoding.Auto)]
    [InlineData(0.98, WeightEncoding.Bitmask)]
    [InlineData(0.9, WeightEncoding.Csr)]
    [InlineData(0.5, WeightEncoding.Auto)]
    public void Round_trip_restores_the_masked_model_bit_for_bit(double sparsity, WeightEncoding encoding)
    {
        using var model = TestModels.LeNet300(1);
        using var masks = TestModels.Magnitude(model, sparsity);
        masks.ApplyTo(model);
        // Pruned positions hold ±0.0 after ApplyTo; the file stores +0.0. Canonicalise to compare bytes.
        using (no_grad())
        {
            foreach (var name in masks.Names)
            {
                model.state_dict()[name].add_(0.0f);
            }
        }

        var path = TestModels.TempPath("lenet.safetensors");
        var summary = CompressedModelFile.Save(model, masks, path, encoding);
        summary.Tensors.Should().OnlyContain(t => encoding == WeightEncoding.Auto || t.Encoding == encoding);

        using var other = TestModels.LeNet300(2);
        TestModels.SameState(model, other).Should().BeFalse();
        using var loaded = CompressedModelFile.Load(other, path);
        TestModels.SameState(model, other).Should().BeTrue();
        loaded.Equals(masks).Should().BeTrue();
        summary.FileBytes.Should().Be(new FileInfo(path).Length);
        summary.KeptParameters.Should().Be(masks.KeptCount + (266_610 - masks.TotalCount));
    }

    [Fact]
    public void Kept_zeros_and_special_values_keep_their_bits_and_pruned_negative_zero_loads_as_zero()
    {
        using var model = nn.Linear(4, 3);
        using (no_grad())
        {
            model.weight!.copy_(tensor(new[] { 0f, -0f, float.NaN, float.PositiveInfinity, -1e-45f, 1f, 2f, 3f, -5f, -6f, 7f, 8f }).reshape(3, 4));
        }

        using var masks = new MaskSet([KeyValuePair.Create("weight", tensor(new[] { true, true, true, true, true, false, false, false, true, false, true, false }).reshape(3, 4))]);
        var path = TestModels.TempPath("special.safetensors");
        CompressedModelFile.Save(model, masks, path, WeightEncoding.Csr);
        using var other = nn.Linear(4, 3);
        using var loaded = CompressedModelFile.Load(other, path);
        var expected = new[] { 0f, -0f, float.NaN, float.PositiveInfinity, -1e-45f, 0f, 0f, 0f, -5f, 0f, 7f, 0f };
        var got = other.weight!.data<float>().ToArray();
        got.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
        other.bias!.data<float>().ToArray().Should().Equal(model.bias!.data<float>().ToArray());
    }

    [Fact]
    public void Auto_picks_csr_at_one_percent_and_the_bit_mask_at_fifty_percent_and_never_more_bytes_than_either()
    {
        using var model = nn.Sequential(("a", nn.Linear(400, 300)), ("b", nn.Linear(300, 200)));
        using var masks = TestModels.Random(model, 0.01, 3, "a.weight");
        using var half = TestModels.Random(model, 0.5, 4, "b.weight");
        using var both = new MaskSet([KeyValuePair.Create("a.weight", masks["a.weight"].clone()), KeyValuePair.Create("b.weight", half["b.weight"].clone())]);
        var auto = CompressedModelFile.Save(model, both, TestModels.TempPath("auto"));
        auto.Tensors.Select(t => t.Encoding).Should().Equal(WeightEncoding.Csr, WeightEncoding.Bitmask);
        var bits = CompressedModelFile.Save(model, both, TestModels.TempPath("bits"), WeightEncoding.Bitmask);
        var csr = CompressedModelFile.Save(model, both, TestModels.TempPath("csr"), WeightEncoding.Csr);
        auto.FileBytes.Should().BeLessThan(bits.FileBytes).And.BeLessThan(csr.FileBytes);
        // Stored bytes by hand: a.weight 120,000 weights, k kept; bitmask 15,000 + 4k, CSR 4·301 + 8k.
        long k = both.KeptIn("a.weight");
        bits.Tensors[0].StoredBytes.Should().Be(15_000 + 4 * k);
        csr.Tensors[0].StoredBytes.Should().Be(4 * 301 + 8 * k);
    }

    [Theory]
    [InlineData("lenet300", 0.98, 12)]
    [InlineData("lenet300", 0.90, 4)]
    [InlineData("resnet20", 0.90, 4)]
    public void Compressed_file_meets_the_size_goal(string name, double sparsity, int factor)
    {
        using var model = name == "lenet300" ? TestModels.LeNet300(0) : TestModels.ResNet20(0);
        using var masks = TestModels.Magnitude(model, sparsity, keepLastDense: name == "lenet300");
        var dense = TestModels.TempPath("dense.safetensors");
        StateDict.Save(model, dense);
        var summary = CompressedModelFile.Save(model, masks, TestModels.TempPath("compressed.safetensors"));
        summary.FileBytes.Should().BeLessThanOrEqualTo(new FileInfo(dense).Length / factor);
    }

    [Fact]
    public void Save_rejects_masks_that_do_not_fit_and_reserved_metadata()
    {
        using var model = TestModels.LeNet300(0);
        using var wrong = new MaskSet([KeyValuePair.Create("fc1.weight", ones(new long[] { 300, 783 }, ScalarType.Bool))]);
        var act = () => CompressedModelFile.Save(model, wrong, TestModels.TempPath("x"));
        act.Should().Throw<ArgumentException>().WithParameterName("masks").WithMessage("*fc1.weight*783*");
        using var unknown = new MaskSet([KeyValuePair.Create("fc9.weight", ones(new long[] { 3 }, ScalarType.Bool))]);
        act = () => CompressedModelFile.Save(model, unknown, TestModels.TempPath("x"));
        act.Should().Throw<ArgumentException>().WithMessage("*fc9.weight*");
        using var masks = TestModels.Magnitude(model, 0.9);
        act = () => CompressedModelFile.Save(model, masks, TestModels.TempPath("x"), metadata: new Dictionary<string, string> { ["sparsity.format"] = "x" });
        act.Should().Throw<ArgumentException>().WithParameterName("metadata");
    }

    [Fact]
    public void User_metadata_is_stored_and_the_header_names_every_part()
    {
        using var model = TestModels.LeNet300(0);
        using var masks = TestModels.Magnitude(model, 0.98);
        var path = TestModels.TempPath("meta.safetensors");
        CompressedModelFile.Save(model, masks, path, metadata: new Dictionary<string, string> { ["source"] = "test" });
        using var reader = SafeTensorsReader.Open(path);
        reader.Metadata["source"].Should().Be("test");
        reader.Metadata[CompressedModelFile.FormatKey].Should().Be(CompressedModelFile.FormatName);
        reader.Tensors.Select(t => t.Name).Should().Contain(["fc1.bias", "fc3.weight", "fc3.bias", "fc1.weight.values", "fc2.weight.values"]);
        reader.Tensors.Select(t => t.Name).Should().NotContain("fc1.weight");
    }
}
