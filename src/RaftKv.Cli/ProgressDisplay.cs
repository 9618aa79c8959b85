using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace RaftKv.Cli;

/// <summary>
/// Progress of long work on stderr: a Spectre.Console progress bar (or a spinner when the server reports no
/// progress) when stderr is a terminal; otherwise plain lines, one per 10 % ("snapshot: 65536 / 131104 bytes (50%)"),
/// so logs and tests see it too. Nothing goes to stdout. <c>--quiet</c> turns it off.
/// </summary>
public static partial class ProgressDisplay
{
    private static bool Interactive => !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");

    private static IAnsiConsole Err => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>Runs <paramref name="work"/>, showing the (done, total) it reports in <paramref name="unit"/>.</summary>
    public static async Task<T> RunAsync<T>(string label, string unit, bool quiet, Func<IProgress<(long Done, long Total)>, Task<T>> work)
    {
        if (quiet)
        {
            return await work(new SyncProgress<(long, long)>(_ => { })).ConfigureAwait(false);
        }

        if (!Interactive)
        {
            var lastDecile = -1L;
            return await work(new SyncProgress<(long Done, long Total)>(p =>
            {
                var percent = p.Total > 0 ? Math.Min(100, p.Done * 100 / p.Total) : 0;
                if (percent / 10 != lastDecile || (p.Done == p.Total && lastDecile != 10))
                {
                    lastDecile = p.Done == p.Total ? 10 : percent / 10;
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: {p.Done} / {p.Total} {unit} ({percent}%)"));
                }
            })).ConfigureAwait(false);
        }

        return await Err.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(label), autoStart: true, maxValue: 1);
                var result = await work(new SyncProgress<(long Done, long Total)>(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                })).ConfigureAwait(false);
                task.Value = task.MaxValue;
                return result;
            }).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> whose progress the server does not report: a spinner with the elapsed time.</summary>
    public static async Task<T> SpinAsync<T>(string label, bool quiet, Func<Task<T>> work)
    {
        var clock = Stopwatch.StartNew();
        if (quiet)
        {
            return await work().ConfigureAwait(false);
        }

        if (!Interactive)
        {
            Console.Error.WriteLine($"{label}…");
            var r = await work().ConfigureAwait(false);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: done in {clock.Elapsed.TotalSeconds:0.0} s"));
            return r;
        }

        var result = await Err.Status().Spinner(Spinner.Known.Dots).StartAsync(Markup.Escape(label) + "…", async ctx =>
        {
            var task = work();
            while (await Task.WhenAny(task, Task.Delay(200)).ConfigureAwait(false) != task)
            {
                ctx.Status(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{label}… {clock.Elapsed.TotalSeconds:0} s")));
            }

            return await task.ConfigureAwait(false);
        }).ConfigureAwait(false);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: done in {clock.Elapsed.TotalSeconds:0.0} s"));
        return result;
    }
}
