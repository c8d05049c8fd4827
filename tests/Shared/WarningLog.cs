using Microsoft.Extensions.Logging;

namespace Sparsity.Tests.Fuzzing;

/// <summary>A logger that keeps the warnings it is given (what a fallback to an older checkpoint says).</summary>
/// <typeparam name="T">The category, so that it serves wherever an <see cref="ILogger{T}"/> is asked for.</typeparam>
internal sealed class WarningLog<T> : ILogger<T>
{
    public List<string> Messages { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel == LogLevel.Warning)
        {
            Messages.Add(formatter(state, exception));
        }
    }
}
