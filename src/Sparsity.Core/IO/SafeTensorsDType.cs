using static TorchSharp.torch;

namespace Sparsity.IO;

/// <summary>Element types of the safetensors format that Sparsity reads and writes.</summary>
public enum SafeTensorsDType
{
    /// <summary>IEEE 754 binary64 (<c>F64</c>).</summary>
    F64,

    /// <summary>IEEE 754 binary32 (<c>F32</c>).</summary>
    F32,

    /// <summary>IEEE 754 binary16 (<c>F16</c>).</summary>
    F16,

    /// <summary>bfloat16 (<c>BF16</c>).</summary>
    BF16,

    /// <summary>Signed 64-bit integer (<c>I64</c>).</summary>
    I64,

    /// <summary>Signed 32-bit integer (<c>I32</c>).</summary>
    I32,

    /// <summary>Unsigned 8-bit integer (<c>U8</c>).</summary>
    U8,

    /// <summary>Boolean stored as one byte, 0 or 1 (<c>BOOL</c>; <c>torch.bool</c>).</summary>
    Bool,
}

/// <summary>Mapping between safetensors dtypes, their names, sizes and TorchSharp scalar types.</summary>
internal static class SafeTensorsDTypes
{
    public static string Name(this SafeTensorsDType dtype) => dtype == SafeTensorsDType.Bool ? "BOOL" : dtype.ToString();

    public static int Size(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        _ => 1,
    };

    public static bool TryParse(string name, out SafeTensorsDType dtype)
    {
        foreach (var candidate in Enum.GetValues<SafeTensorsDType>())
        {
            if (candidate.Name() == name)
            {
                dtype = candidate;
                return true;
            }
        }

        dtype = default;
        return false;
    }

    public static ScalarType ToScalarType(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F64 => ScalarType.Float64,
        SafeTensorsDType.F32 => ScalarType.Float32,
        SafeTensorsDType.F16 => ScalarType.Float16,
        SafeTensorsDType.BF16 => ScalarType.BFloat16,
        SafeTensorsDType.I64 => ScalarType.Int64,
        SafeTensorsDType.I32 => ScalarType.Int32,
        SafeTensorsDType.U8 => ScalarType.Byte,
        _ => ScalarType.Bool,
    };

    public static bool TryFromScalarType(ScalarType type, out SafeTensorsDType dtype)
    {
        foreach (var candidate in Enum.GetValues<SafeTensorsDType>())
        {
            if (candidate.ToScalarType() == type)
            {
                dtype = candidate;
                return true;
            }
        }

        dtype = default;
        return false;
    }
}
