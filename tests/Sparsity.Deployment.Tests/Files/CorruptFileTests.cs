using System.Buffers.Binary;
using System.Text;
using Sparsity.Deployment.Files;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Tests.Files;

public sealed class CorruptFileTests
{
    private static (nn.Module<Tensor, Tensor> Model, string Path) Saved(WeightEncoding encoding = WeightEncoding.Auto)
    {
        var model = TestModels.LeNet300(5);
        using var masks = TestModels.Magnitude(model, 0.95);
        var path = TestModels.TempPath("corrupt.safetensors");
        CompressedModelFile.Save(model, masks, path, encoding);
        return (model, path);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(-1)]
    [InlineData(-5000)]
    public void Truncated_file_is_rejected_naming_the_file_and_the_model_is_unchanged(int cut)
    {
        var (model, path) = Saved();
        using (model)
        {
            var bytes = File.ReadAllBytes(path);
            var length = cut >= 0 ? cut : bytes.Length + cut;
            File.WriteAllBytes(path, bytes[..length]);
            using var target = TestModels.LeNet300(9);
            using var before = TestModels.LeNet300(9);
            TestModels.CopyState(target, before);
            var act = () => CompressedModelFile.Load(target, path);
            act.Should().Throw<SparsityFormatException>().Which.FilePath.Should().Be(path);
            TestModels.SameState(target, before).Should().BeTrue();
        }
    }

    [Fact]
    public void A_flipped_value_bit_fails_the_checksum()
    {
        var (model, path) = Saved();
        using (model)
        {
            var bytes = File.ReadAllBytes(path);
            bytes[^3] ^= 0x10;
            File.WriteAllBytes(path, bytes);
            using var target = TestModels.LeNet300(9);
            var act = () => CompressedModelFile.Load(target, path);
            act.Should().Throw<SparsityFormatException>().WithMessage($"{path}*SHA-256*");
        }
    }

    [Fact]
    public void A_header_claiming_more_than_the_file_holds_is_rejected_before_allocating()
    {
        var (model, path) = Saved();
        using (model)
        {
            var bytes = File.ReadAllBytes(path);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
            File.WriteAllBytes(path, bytes);
            using var target = TestModels.LeNet300(9);
            var act = () => CompressedModelFile.Load(target, path);
            act.Should().Throw<SparsityFormatException>().WithMessage("*header claims*");
        }
    }

    [Fact]
    public void A_file_of_another_model_is_rejected_naming_the_mismatch()
    {
        var (model, path) = Saved();
        using (model)
        {
            using var other = new Sparsity.Models.LeNet300100(1, 7);
            var act = () => CompressedModelFile.Load(other, path);
            act.Should().Throw<SparsityFormatException>().WithMessage("*fc3*");
        }
    }

    [Fact]
    public void A_dense_state_dict_is_not_a_compressed_file()
    {
        using var model = TestModels.LeNet300(0);
        var path = TestModels.TempPath("dense.safetensors");
        Sparsity.IO.StateDict.Save(model, path);
        var act = () => CompressedModelFile.Load(model, path);
        act.Should().Throw<SparsityFormatException>().WithMessage("*sparsity.format*");
    }

    [Fact]
    public void Bit_mask_decoder_checks_length_padding_and_count()
    {
        var values = new byte[8]; // two float32 values
        var ok = MaskedTensorCodec.DecodeBitmask("f", "w", 10, 4, [0b0000_0101, 0], values);
        ok.Mask.Should().Equal(1, 0, 1, 0, 0, 0, 0, 0, 0, 0);
        var act = () => MaskedTensorCodec.DecodeBitmask("f", "w", 10, 4, [0b0000_0101], values);
        act.Should().Throw<SparsityFormatException>().WithMessage("*mask bytes*");
        act = () => MaskedTensorCodec.DecodeBitmask("f", "w", 10, 4, [0b0000_0001, 0b0000_0100], values);
        act.Should().Throw<SparsityFormatException>().WithMessage("*past its 10 weights*");
        act = () => MaskedTensorCodec.DecodeBitmask("f", "w", 10, 4, [0b0000_0111, 0], values);
        act.Should().Throw<SparsityFormatException>().WithMessage("*keeps 3 weights*stores 2 values*");
    }

    [Fact]
    public void Csr_decoder_checks_pointers_and_indices()
    {
        static byte[] I32(params int[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();
        var values = new byte[12];
        var ok = MaskedTensorCodec.DecodeCsr("f", "w", 2, 3, 4, I32(0, 2, 3), I32(0, 2, 1), values);
        ok.Mask.Should().Equal(1, 0, 1, 0, 1, 0);
        var cases = new (byte[] Ptr, byte[] Idx, string Message)[]
        {
            (I32(0, 2), I32(0, 2, 1), "*row pointers*"),
            (I32(1, 2, 3), I32(0, 2, 1), "*start at 1*"),
            (I32(0, 3, 2), I32(0, 1, 2), "*row pointer 2*"),
            (I32(0, 2, 2), I32(0, 2, 1), "*end at 2*"),
            (I32(0, 2, 3), I32(2, 0, 1), "*column index 0*"),
            (I32(0, 2, 3), I32(0, 3, 1), "*column index 3*"),
            (I32(0, 2, 3), I32(0, 0, 1), "*column index 0*"),
        };
        foreach (var (ptr, idx, message) in cases)
        {
            var act = () => MaskedTensorCodec.DecodeCsr("f", "w", 2, 3, 4, ptr, idx, values);
            act.Should().Throw<SparsityFormatException>().WithMessage(message);
        }

        var count = () => MaskedTensorCodec.DecodeCsr("f", "w", 2, 3, 4, I32(0, 2, 3), I32(0, 2, 1), new byte[8]);
        count.Should().Throw<SparsityFormatException>().WithMessage("*3 column indices but 2 values*");
    }

    [Fact]
    public void Tampered_metadata_shape_is_rejected_even_with_a_valid_checksum()
    {
        var (model, path) = Saved(WeightEncoding.Bitmask);
        using (model)
        {
            var bytes = File.ReadAllBytes(path);
            var text = Encoding.Latin1.GetString(bytes);
            var patched = text.Replace("[300,784]", "[784,300]", StringComparison.Ordinal);
            patched.Should().NotBe(text);
            File.WriteAllBytes(path, Encoding.Latin1.GetBytes(patched));
            using var target = TestModels.LeNet300(9);
            var act = () => CompressedModelFile.Load(target, path);
            act.Should().Throw<SparsityFormatException>().WithMessage("*fc1.weight*784, 300*");
        }
    }
}
