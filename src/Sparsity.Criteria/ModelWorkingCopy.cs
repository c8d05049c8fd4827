using System.Reflection;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>
/// Swaps every parameter and every buffer of a model for a detached working copy (floating-point ones
/// optionally in another floating dtype), so that a scoring pass can change values, dtype, <c>requires_grad</c>, BN
/// running statistics and train/eval mode without touching the caller's tensors. <see cref="Dispose"/>
/// puts the original objects back (the same <see cref="Parameter"/> instances, never written to) and restores
/// every module's train/eval flag — also when scoring threw.
/// </summary>
/// <remarks>
/// TorchSharp's <c>Module.to(dtype)</c> would replace the caller's Parameter objects (it leaves integer buffers
/// such as BatchNorm's int64 <c>num_batches_tracked</c> as they are, tested in TorchSharp 0.107); this swap keeps
/// them and copies integer buffers in their own dtype. A module is swapped by
/// re-registering the copy under the same name and pointing every field of the module that referenced the
/// original at the copy (TorchSharp's own <c>_toEpilog</c> does the same). A module that keeps a tensor
/// somewhere else would still see the original; <see cref="VerifyForwardUsesCopies"/> detects that case.
/// </remarks>
internal sealed class ModelWorkingCopy : IDisposable
{
    private static readonly MethodInfo RegisterParameter = FindRegistration("ConditionallyRegisterParameter");

    private static readonly MethodInfo RegisterBuffer = FindRegistration("ConditionallyRegisterBuffer");

    private readonly List<Swap> _swaps = [];
    private readonly List<(nn.Module Module, bool Training)> _modes = [];
    private readonly Dictionary<string, Tensor> _copies = new(StringComparer.Ordinal);
    private bool _disposed;

    private ModelWorkingCopy()
    {
    }

    /// <summary>The working copy of a parameter or buffer by state-dict key (live in the model until disposal).</summary>
    public Tensor this[string name] => _copies.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"The model has no parameter or buffer '{name}'.");

    /// <summary>All working copies by state-dict key.</summary>
    public IReadOnlyDictionary<string, Tensor> Copies => _copies;

    /// <summary>Swaps in working copies.</summary>
    /// <param name="model">The model.</param>
    /// <param name="dtype">Floating dtype of the copies; each tensor's own dtype when null.</param>
    /// <param name="transform">Applied to every floating-point copy (in place, no grad) before it is swapped in, e.g. <c>abs_</c>.</param>
    public static ModelWorkingCopy Create(nn.Module model, ScalarType? dtype = null, Action<Tensor>? transform = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var copy = new ModelWorkingCopy();
        try
        {
            copy._modes.Add((model, model.training));
            foreach (var (_, m) in model.named_modules())
            {
                copy._modes.Add((m, m.training));
            }

            var modules = new List<(string Prefix, nn.Module Module)> { (string.Empty, model) };
            modules.AddRange(model.named_modules().Select(nm => (nm.name + ".", nm.module)));

            // A module reachable under two paths is swapped once; a tensor shared by two modules (tied
            // weights) gets one copy that both modules see. Every path name maps to that copy.
            var visited = new Dictionary<nn.Module, string>(ReferenceEqualityComparer.Instance);
            var replacements = new Dictionary<IntPtr, Tensor>();
            foreach (var (prefix, module) in modules)
            {
                if (visited.TryGetValue(module, out var firstPrefix))
                {
                    foreach (var (name, _) in module.named_parameters(recurse: false))
                    {
                        copy._copies[prefix + name] = copy._copies[firstPrefix + name];
                    }

                    foreach (var (name, _) in module.named_buffers(recurse: false))
                    {
                        copy._copies[prefix + name] = copy._copies[firstPrefix + name];
                    }

                    continue;
                }

                visited[module] = prefix;
                foreach (var (name, p) in module.named_parameters(recurse: false).ToList())
                {
                    if (!replacements.TryGetValue(p.Handle, out var replacement))
                    {
                        Tensor data;
                        using (no_grad())
                        {
                            data = (dtype is { } d && d != p.dtype ? p.detach().to(d) : p.detach().clone()).DetachFromDisposeScope();
                            transform?.Invoke(data);
                        }

                        replacement = new Parameter(data, requires_grad: false);
                        replacement.DetachFromDisposeScope();
                        replacements[p.Handle] = replacement;
                    }

                    copy.SwapIn(module, name, p, replacement, isParameter: true);
                    copy._copies[prefix + name] = replacement;
                }

                foreach (var (name, b) in module.named_buffers(recurse: false).ToList())
                {
                    if (!replacements.TryGetValue(b.Handle, out var replacement))
                    {
                        // Integer buffers (BatchNorm's num_batches_tracked) are copied too, but keep their dtype.
                        var floating = b.is_floating_point();
                        using (no_grad())
                        {
                            replacement = (floating && dtype is { } d && d != b.dtype ? b.detach().to(d) : b.detach().clone()).DetachFromDisposeScope();
                            if (floating)
                            {
                                transform?.Invoke(replacement);
                            }
                        }

                        replacements[b.Handle] = replacement;
                    }

                    copy.SwapIn(module, name, b, replacement, isParameter: false);
                    copy._copies[prefix + name] = replacement;
                }
            }

            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Throws when a forward pass of the swapped model did not produce a result that depends on the working
    /// copies in the requested dtype (a module kept a reference the swap could not reach).
    /// </summary>
    /// <param name="output">The model output of a forward pass made while swapped.</param>
    /// <param name="dtype">The dtype the copies were made in.</param>
    public static void VerifyForwardUsesCopies(Tensor output, ScalarType dtype)
    {
        if (output.dtype != dtype)
        {
            throw new InvalidOperationException(
                $"The model produced {output.dtype} output while its parameters were swapped for {dtype} working copies; " +
                "some module uses a tensor the swap could not reach. Score in the model's own dtype instead (for SynFlow: UseFloat64 = false).");
        }
    }

    /// <summary>Puts the original tensors back and restores every module's train/eval mode.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (int i = _swaps.Count - 1; i >= 0; i--)
        {
            _swaps[i].Undo();
        }

        foreach (var (module, training) in _modes)
        {
            module.train(training);
        }

        foreach (var t in _copies.Values.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
        {
            t.Dispose();
        }

        _copies.Clear();
    }

    private static MethodInfo FindRegistration(string name)
    {
        var candidates = typeof(nn.Module).GetMethods(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(m => m.Name == name).ToList();
        return candidates.FirstOrDefault(m => m.GetParameters() is [var a, var b, ..] && a.ParameterType == typeof(string)
                   && b.ParameterType.IsAssignableFrom(typeof(Tensor)) && m.GetParameters().Skip(2).All(p => p.IsOptional))
               ?? throw new MissingMethodException(
                   $"TorchSharp Module.{name}(string, Tensor) not found; overloads: " +
                   string.Join("; ", candidates.Select(m => string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name)))));
    }

    private void SwapIn(nn.Module module, string name, Tensor original, Tensor replacement, bool isParameter)
    {
        var fields = new List<FieldInfo>();
        for (var type = module.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (typeof(Tensor).IsAssignableFrom(field.FieldType) && ReferenceEquals(field.GetValue(module), original))
                {
                    fields.Add(field);
                }
            }
        }

        var swap = new Swap(module, name, original, fields, isParameter);
        foreach (var field in fields)
        {
            field.SetValue(module, replacement);
        }

        Register(module, name, replacement, isParameter);
        _swaps.Add(swap);
    }

    private static void Register(nn.Module module, string name, Tensor tensor, bool isParameter)
    {
        var method = isParameter ? RegisterParameter : RegisterBuffer;
        var args = new object?[method.GetParameters().Length];
        args[0] = name;
        args[1] = tensor;
        for (int i = 2; i < args.Length; i++)
        {
            args[i] = method.GetParameters()[i].DefaultValue;
        }

        method.Invoke(module, args);
    }

    private sealed record Swap(nn.Module Module, string Name, Tensor Original, List<FieldInfo> Fields, bool IsParameter)
    {
        public void Undo()
        {
            foreach (var field in Fields)
            {
                field.SetValue(Module, Original);
            }

            Register(Module, Name, Original, IsParameter);
        }
    }
}
