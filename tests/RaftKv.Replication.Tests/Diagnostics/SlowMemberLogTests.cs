using System.Reflection;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Diagnostics;

namespace RaftKv.Replication.Tests.Diagnostics;

/// <summary>
/// <see cref="SlowMemberLog"/>: DotNext's per-round "too far behind" warning is counted, logged at most once a minute per
/// member with the count since the previous line, and every other message passes through unchanged; and the event it
/// intercepts is the one the DotNext package really logs (its id and its <c>Member</c> argument, read from the package).
/// </summary>
public sealed class SlowMemberLogTests
{
    [Fact]
    public void TheInterceptedEventIsDotNextsSlowMemberWarning()
    {
        var messages = typeof(RaftCluster).Assembly.GetType("DotNext.Net.Cluster.Consensus.Raft.LogMessages", throwOnError: true)!;
        var method = messages.GetMethod("SlowMember", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static);
        Assert.NotNull(method);
        var attribute = method!.GetCustomAttribute<LoggerMessageAttribute>();
        Assert.NotNull(attribute);
        Assert.Equal(SlowMemberLog.EventId, attribute!.EventId);
        Assert.Equal(LogLevel.Warning, attribute.Level);
        Assert.Contains("{Member}", attribute.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SkippedRoundsAreCountedAndLoggedOncePerIntervalPerMember()
    {
        var clock = new StoppedClock();
        var sink = new ListLogger();
        var log = new SlowMemberLog(clock);
        var logger = log.Wrap(new SinkFactory(sink)).CreateLogger("DotNext.Net.Cluster.Consensus.Raft.RaftCluster");

        for (var i = 0; i < 100; i++)
        {
            SlowMember(logger, "10.0.0.2:7000");
        }

        SlowMember(logger, "10.0.0.3:7000");
        Assert.Equal(101, log.SkippedRounds);
        Assert.Equal(2, sink.Lines.Count); // the first of each member
        Assert.Contains("10.0.0.2:7000", sink.Lines[0].Text, StringComparison.Ordinal);
        Assert.Equal(1L, sink.Lines[0].Rounds);

        clock.Advance(SlowMemberLog.Interval - TimeSpan.FromSeconds(1));
        SlowMember(logger, "10.0.0.2:7000");
        Assert.Equal(2, sink.Lines.Count);

        clock.Advance(TimeSpan.FromSeconds(1));
        SlowMember(logger, "10.0.0.2:7000");
        Assert.Equal(3, sink.Lines.Count);
        Assert.Equal(101L, sink.Lines[2].Rounds); // 99 after the first line, then 2 more
        Assert.Equal(103, log.SkippedRounds);
    }

    [Fact]
    public void OtherMessagesPassThroughAndRoundsCountWithWarningsFilteredOut()
    {
        var sink = new ListLogger();
        var log = new SlowMemberLog(new StoppedClock());
        var logger = log.Wrap(new SinkFactory(sink)).CreateLogger("DotNext");

        logger.Log(LogLevel.Warning, new EventId(74043, "Other"), "other warning", null, static (s, _) => s);
        Assert.Single(sink.Lines);
        Assert.Equal("other warning", sink.Lines[0].Text);

        sink.MinLevel = LogLevel.Error;
        Assert.True(logger.IsEnabled(LogLevel.Warning)); // taken so that the rounds are still counted
        SlowMember(logger, "10.0.0.2:7000");
        logger.Log(LogLevel.Warning, new EventId(74043, "Other"), "filtered", null, static (s, _) => s);
        Assert.Equal(1, log.SkippedRounds);
        Assert.Single(sink.Lines); // neither the summary nor the other warning reached the disabled level
    }

    /// <summary>Logs as DotNext's generated <c>LogMessages.SlowMember</c> does: a name/value state with <c>Member</c>.</summary>
    private static void SlowMember(ILogger logger, string member)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            IReadOnlyList<KeyValuePair<string, object?>> state = [new("Member", member), new("{OriginalFormat}", "Cluster member {Member} is too far behind the leader")];
            logger.Log(LogLevel.Warning, new EventId(SlowMemberLog.EventId, "DotNext.Net.Cluster.Consensus.Raft.SlowMember"), state, null, static (_, _) => "too far behind");
        }
    }

    private sealed class SinkFactory(ListLogger sink) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => sink;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class ListLogger : ILogger
    {
        public LogLevel MinLevel { get; set; } = LogLevel.Trace;

        public List<(string Text, long? Rounds)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= MinLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            long? rounds = null;
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                rounds = values.Where(v => v.Key == "Rounds").Select(v => (long?)v.Value).FirstOrDefault();
            }

            Lines.Add((formatter(state, exception), rounds));
        }
    }
}
