namespace RaftKv.Cli;

/// <summary><c>-w</c>/<c>--write-out</c>: how a command prints its answer on stdout.</summary>
public enum OutputFormat
{
    /// <summary>Plain lines, tab-separated where there are columns (the default; stable for scripts).</summary>
    Simple,

    /// <summary>A table drawn with Spectre.Console, for people.</summary>
    Table,

    /// <summary>One JSON document per answer (one per line for streams such as <c>watch</c>); snake_case fields.</summary>
    Json,
}
