using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace RaftKv.Tiering.Tests;

/// <summary>An <see cref="ILogger{T}"/> writing warnings and errors to the test's output (debugging aid of failures).</summary>
internal sealed class TestOutputLogger<T>(ITestOutputHelper output) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {typeof(T).Name}: {formatter(state, exception)} {exception}");
            }
            catch (InvalidOperationException)
            {
                // the test has finished
            }
        }
    }
}
