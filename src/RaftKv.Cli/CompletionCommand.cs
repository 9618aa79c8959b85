using System.CommandLine;

namespace RaftKv.Cli;

/// <summary>
/// <c>completion bash|zsh</c>: prints a script that completes kvctl's commands, options and values by asking kvctl
/// itself through System.CommandLine's <c>[suggest:POSITION]</c> directive (so completions always match the binary).
/// Install: <c>source &lt;(kvctl completion bash)</c>, or for zsh <c>source &lt;(kvctl completion zsh)</c>.
/// </summary>
public static class CompletionCommand
{
    public const string Bash = """
        # kvctl completion for bash: source <(kvctl completion bash)
        _kvctl_complete() {
            local IFS=$'\n'
            local line="${COMP_LINE:0:COMP_POINT}"
            COMPREPLY=( $(compgen -W "$("${COMP_WORDS[0]}" "[suggest:${#line}]" "$line" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _kvctl_complete kvctl
        """;

    public const string Zsh = """
        # kvctl completion for zsh: source <(kvctl completion zsh)
        _kvctl_complete() {
            local line="${BUFFER[1,CURSOR]}"
            local -a suggestions
            suggestions=("${(@f)$(${words[1]} "[suggest:${#line}]" "$line" 2>/dev/null)}")
            compadd -- "${suggestions[@]}"
        }
        compdef _kvctl_complete kvctl
        """;

    public static IEnumerable<Command> Create(KvctlApp app)
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "Print a shell completion script (source <(kvctl completion bash))") { shell };
        app.HandleLocal(command, (parse, output, _) =>
        {
            output.Line(parse.GetValue(shell) == "zsh" ? Zsh : Bash);
            return Task.FromResult(ExitCode.Ok);
        });
        return [command];
    }
}
