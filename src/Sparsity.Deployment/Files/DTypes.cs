using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Files;

/// <summary>TorchSharp scalar types ↔ safetensors dtypes and their names in headers.</summary>
internal static class DTypes
{
    public static bool TryGet(ScalarType type, out SafeTensorsDType dtype)
    {
        (bool ok, dtype) = type switch
        {
            ScalarType.Float64 => (true, SafeTensorsDType.F64),
            ScalarType.Float32 => (true, SafeTensorsDType.F32),
            ScalarType.Float16 => (true, SafeTensorsDType.F16),
            ScalarType.BFloat16 => (true, SafeTensorsDType.BF16),
            ScalarType.Int64 => (true, SafeTensorsDType.I64),
            ScalarType.Int32 => (true, SafeTensorsDType.I32),
            ScalarType.Byte => (true, SafeTensorsDType.U8),
            ScalarType.Bool => (true, SafeTensorsDType.Bool),
            _ => (false, SafeTensorsDType.F32),
        };
        return ok;
    }

    public static string Name(SafeTensorsDType dtype) => dtype == SafeTensorsDType.Bool ? "BOOL" : dtype.ToString();
}
