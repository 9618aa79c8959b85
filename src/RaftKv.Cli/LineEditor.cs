using System.Text;

namespace RaftKv.Cli;

/// <summary>
/// A small line editor for <c>kvctl shell</c> on a terminal: ←/→, Home/End (Ctrl-A/Ctrl-E), Backspace/Delete,
/// ↑/↓ through <see cref="ShellHistory"/>, Tab completion (<paramref name="complete"/> gives the candidates for the
/// text before the cursor), Ctrl-U clears the line, Ctrl-C abandons it, Ctrl-D on an empty line ends input.
/// Redraws with ANSI sequences (carriage return, erase to end of line, cursor left), which every terminal emulator
/// and tmux understand. Lines longer than the terminal's width are not re-wrapped.
/// </summary>
public sealed class LineEditor(ShellHistory history, Func<string, IReadOnlyList<string>> complete)
{
    /// <summary>The line typed, or null at end of input (Ctrl-D on an empty line).</summary>
    public string? ReadLine(string prompt)
    {
        var buffer = new StringBuilder();
        var cursor = 0;
        var index = history.Count;
        var draft = string.Empty;
        Console.Write(prompt);
        var treat = Console.TreatControlCAsInput;
        Console.TreatControlCAsInput = true;
        try
        {
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                var ctrl = (key.Modifiers & ConsoleModifiers.Control) != 0;
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        Console.Write("\r\n");
                        return buffer.ToString();
                    case ConsoleKey.C when ctrl:
                        Console.Write("^C\r\n");
                        return string.Empty;
                    case ConsoleKey.D when ctrl:
                        if (buffer.Length == 0)
                        {
                            Console.Write("\r\n");
                            return null;
                        }

                        if (cursor < buffer.Length)
                        {
                            buffer.Remove(cursor, 1);
                        }

                        break;
                    case ConsoleKey.A when ctrl:
                    case ConsoleKey.Home:
                        cursor = 0;
                        break;
                    case ConsoleKey.E when ctrl:
                    case ConsoleKey.End:
                        cursor = buffer.Length;
                        break;
                    case ConsoleKey.U when ctrl:
                        buffer.Clear();
                        cursor = 0;
                        break;
                    case ConsoleKey.LeftArrow:
                        cursor = Math.Max(0, cursor - 1);
                        break;
                    case ConsoleKey.RightArrow:
                        cursor = Math.Min(buffer.Length, cursor + 1);
                        break;
                    case ConsoleKey.Backspace:
                        if (cursor > 0)
                        {
                            buffer.Remove(--cursor, 1);
                        }

                        break;
                    case ConsoleKey.Delete:
                        if (cursor < buffer.Length)
                        {
                            buffer.Remove(cursor, 1);
                        }

                        break;
                    case ConsoleKey.UpArrow:
                    case ConsoleKey.P when ctrl:
                        if (index > 0)
                        {
                            draft = index == history.Count ? buffer.ToString() : draft;
                            Replace(buffer, history[--index], ref cursor);
                        }

                        break;
                    case ConsoleKey.DownArrow:
                    case ConsoleKey.N when ctrl:
                        if (index < history.Count)
                        {
                            index++;
                            Replace(buffer, index == history.Count ? draft : history[index], ref cursor);
                        }

                        break;
                    case ConsoleKey.Tab:
                        Complete(prompt, buffer, ref cursor);
                        break;
                    default:
                        if (!char.IsControl(key.KeyChar))
                        {
                            buffer.Insert(cursor++, key.KeyChar);
                        }

                        break;
                }

                Redraw(prompt, buffer, cursor);
            }
        }
        finally
        {
            Console.TreatControlCAsInput = treat;
        }
    }

    private static void Replace(StringBuilder buffer, string text, ref int cursor)
    {
        buffer.Clear().Append(text);
        cursor = buffer.Length;
    }

    private static void Redraw(string prompt, StringBuilder buffer, int cursor)
    {
        var back = buffer.Length - cursor;
        Console.Write($"\r{prompt}{buffer}\u001b[K{(back > 0 ? $"\u001b[{back}D" : string.Empty)}");
    }

    /// <summary>Completes the word before the cursor: one candidate is inserted, several are listed below the line.</summary>
    private void Complete(string prompt, StringBuilder buffer, ref int cursor)
    {
        var before = buffer.ToString(0, cursor);
        var start = before.LastIndexOf(' ') + 1;
        var word = before[start..];
        var candidates = complete(before).Where(c => c.StartsWith(word, StringComparison.Ordinal)).Distinct().ToList();
        if (candidates.Count == 0)
        {
            return;
        }

        var common = candidates.Aggregate((a, b) => a[..CommonLength(a, b)]);
        if (candidates.Count == 1)
        {
            common += " ";
        }
        else if (common.Length == word.Length)
        {
            Console.Write("\r\n" + string.Join("  ", candidates) + "\r\n" + prompt);
        }

        buffer.Remove(start, word.Length).Insert(start, common);
        cursor = start + common.Length;
    }

    private static int CommonLength(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n])
        {
            n++;
        }

        return n;
    }
}
