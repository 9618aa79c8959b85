using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace RaftKv.Cli;

public static partial class ProgressDisplay
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Polls for the finished numbers once the call returned (<see cref="ShowFinishedAsync"/>).</summary>
    private const int FinalPolls = 4;

    /// <summary>
    /// Runs <paramref name="work"/>, a call whose progress the server reports on a route (<paramref name="poll"/>, one
    /// <c>GET /admin/…/progress</c>), polled every 250 ms while the call runs and after it (up to four times, until it
    /// reports the run finished): a bar with the
    /// numbers (done / total in the route's unit, and bytes) on a terminal, the plain per-10 % lines otherwise. The
    /// route is read once before the call, so the last run's numbers are not taken for this one. When the route
    /// reports nothing (unreachable, refused, an older server, <c>unavailable</c>) this falls back to
    /// <see cref="SpinAsync"/>; a poll that fails later is skipped. The call's own result and errors are untouched.
    /// </summary>
    public static async Task<T> TrackAsync<T>(string label, bool quiet, Func<CancellationToken, Task<ServerProgress?>> poll, Func<Task<T>> work)
    {
        if (quiet)
        {
            return await work().ConfigureAwait(false);
        }

        if (await TryPollAsync(poll).ConfigureAwait(false) is not { Available: true } baseline)
        {
            return await SpinAsync(label, quiet, work).ConfigureAwait(false);
        }

        var clock = Stopwatch.StartNew();
        if (!Interactive)
        {
            Console.Error.WriteLine($"{label}…");
            var lines = new PlainLines(label);
            var r = await PollWhileAsync(work(), poll, baseline, lines.Show).ConfigureAwait(false);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: done in {clock.Elapsed.TotalSeconds:0.0} s"));
            return r;
        }

        var result = await Err.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(label + "…"), autoStart: true, maxValue: 1);
                task.IsIndeterminate = true;
                var r = await PollWhileAsync(work(), poll, baseline, p =>
                {
                    var (done, total) = Counts(p);
                    task.Description = Markup.Escape(Describe(label, p));
                    if (total > 0)
                    {
                        task.IsIndeterminate = false;
                        task.MaxValue = total;
                        task.Value = done;
                    }
                }).ConfigureAwait(false);
                task.IsIndeterminate = false;
                task.Value = task.MaxValue;
                return r;
            }).ConfigureAwait(false);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: done in {clock.Elapsed.TotalSeconds:0.0} s"));
        return result;
    }

    private static async Task<T> PollWhileAsync<T>(Task<T> work, Func<CancellationToken, Task<ServerProgress?>> poll, ServerProgress baseline, Action<ServerProgress> show)
    {
        while (true)
        {
            var finished = await Task.WhenAny(work, Task.Delay(PollInterval)).ConfigureAwait(false) == work;
            if (!finished)
            {
                if (await TryPollAsync(poll).ConfigureAwait(false) is { } p && p.IsAfter(baseline))
                {
                    show(p);
                }
            }
            else
            {
                if (work.IsCompletedSuccessfully)
                {
                    await ShowFinishedAsync(poll, baseline, show).ConfigureAwait(false);
                }

                return await work.ConfigureAwait(false);
            }
        }
    }

    /// <summary>After the call succeeded: the run's finished numbers. A loaded server may miss a poll's timeout, so
    /// a failed or not-yet-finished answer is asked again, a few times.</summary>
    private static async Task ShowFinishedAsync(Func<CancellationToken, Task<ServerProgress?>> poll, ServerProgress baseline, Action<ServerProgress> show)
    {
        for (var attempt = 0; attempt < FinalPolls; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(PollInterval).ConfigureAwait(false);
            }

            if (await TryPollAsync(poll).ConfigureAwait(false) is { } p && p.IsAfter(baseline))
            {
                show(p);
                if (p.Finished)
                {
                    return;
                }
            }
        }
    }

    private static async Task<ServerProgress?> TryPollAsync(Func<CancellationToken, Task<ServerProgress?>> poll)
    {
        using var timeout = new CancellationTokenSource(PollTimeout);
        try
        {
            return await poll(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KvctlException or HttpRequestException or OperationCanceledException or Grpc.Core.RpcException)
        {
            return null;
        }
    }

    /// <summary>Done and total for the bar: a finished run is complete whatever it counted (a compaction with nothing to do reports 0 of 0).</summary>
    private static (long Done, long Total) Counts(ServerProgress p)
        => p.State == "done" ? (Math.Max(1, Math.Max(p.Done, p.Total)), Math.Max(1, Math.Max(p.Done, p.Total))) : (p.Done, p.Total);

    private static string Describe(string label, ServerProgress p)
    {
        var bytes = p.BytesTotal > 0 ? string.Create(CultureInfo.InvariantCulture, $", {p.BytesDone} / {p.BytesTotal} bytes") : string.Empty;
        return p.Total > 0 || p.Finished
            ? string.Create(CultureInfo.InvariantCulture, $"{label}: {p.Done} / {p.Total} {p.Unit}{bytes}")
            : $"{label}: planning…";
    }

    /// <summary>The plain progress lines of a non-terminal stderr, the same as <see cref="RunAsync"/>'s: one per 10 %
    /// ("compact: 2 / 4 levels (50%)"), the finished run's last, with its bytes.</summary>
    private sealed class PlainLines(string label)
    {
        private long _lastDecile = -1;

        public void Show(ServerProgress p)
        {
            var (done, total) = Counts(p);
            if (total <= 0)
            {
                return;
            }

            var percent = Math.Min(100, done * 100 / total);
            var decile = p.State == "done" ? 10 : percent / 10;
            if (decile != _lastDecile && !(p.State != "done" && decile == 10))
            {
                _lastDecile = decile;
                var bytes = p.BytesTotal > 0 ? string.Create(CultureInfo.InvariantCulture, $", {p.BytesDone} / {p.BytesTotal} bytes") : string.Empty;
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: {p.Done} / {p.Total} {p.Unit} ({(p.State == "done" ? 100 : percent)}%){bytes}"));
            }
        }
    }
}
