import { Argument, type Command } from 'commander';

/**
 * `nocreds completion bash|zsh`: a completion script made from the command tree itself, so it
 * always knows every command, option and choice the CLI has. zsh loads the bash script through
 * bashcompinit, as aws-cli's zsh completion does.
 */

interface CommandNode {
  /** Command names from the top, space-separated ("" for nocreds itself). */
  readonly path: string;
  readonly subcommands: readonly string[];
  readonly options: readonly string[];
  /** Options that take a value, this command's and its parents' (commander accepts parent options after a subcommand). */
  readonly valueOptions: readonly string[];
  readonly choices: ReadonlyMap<string, readonly string[]>;
}

// Everything the script embeds is a plain word: no quoting needed, nothing a shell would expand.
const WORD = /^[\w.:/-]+$/;

function nodes(command: Command, path = '', inheritedValueOptions: readonly string[] = []): CommandNode[] {
  const help = command.createHelp();
  const options = help.visibleOptions(command);
  const longs = options.map((o) => o.long).filter((flag): flag is string => flag !== undefined && WORD.test(flag));
  const valueOptions = [...inheritedValueOptions, ...options.filter((o) => (o.required || o.optional) && o.long && WORD.test(o.long)).map((o) => o.long as string)];
  const choices = new Map<string, readonly string[]>();
  for (const option of options) {
    if (option.long && option.argChoices) choices.set(option.long, option.argChoices.filter((c) => WORD.test(c)));
  }
  const subcommands = help.visibleCommands(command).filter((c) => WORD.test(c.name()));
  const node: CommandNode = { path, subcommands: subcommands.map((c) => c.name()), options: longs, valueOptions, choices };
  const children = command.commands.filter((c) => WORD.test(c.name())).flatMap((c) => nodes(c, path ? `${path} ${c.name()}` : c.name(), valueOptions));
  return [node, ...children];
}

function caseFunction(name: string, entries: ReadonlyArray<readonly [string, string]>): string {
  const arms = entries.map(([key, words]) => `    "${key}") echo "${words}" ;;`).join('\n');
  return `${name}() {\n  case "$1" in\n${arms}\n  esac\n}`;
}

export function bashCompletion(program: Command): string {
  const tree = nodes(program);
  const choices = tree.flatMap((n) => [...n.choices].map(([option, values]) => [`${n.path}|${option}`, values.join(' ')] as const));
  return `# bash completion for nocreds. Load it with:  source <(nocreds completion bash)
# or keep it:  nocreds completion bash > /etc/bash_completion.d/nocreds
${caseFunction('_nocreds_subcommands', tree.map((n) => [n.path, n.subcommands.join(' ')] as const))}
${caseFunction('_nocreds_options', tree.map((n) => [n.path, n.options.join(' ')] as const))}
${caseFunction('_nocreds_value_options', tree.map((n) => [n.path, n.valueOptions.join(' ')] as const))}
${caseFunction('_nocreds_choices', choices)}
_nocreds_completion() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" word i skip=0
  [ "$COMP_CWORD" -gt 0 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # Which command is being completed: the words that name subcommands, skipping option values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$word" in
      --*=*) ;;
      -*) case " $(_nocreds_value_options "$path") " in *" $word "*) skip=1 ;; esac ;;
      *) case " $(_nocreds_subcommands "$path") " in *" $word "*) path="\${path:+$path }$word" ;; esac ;;
    esac
  done
  if [ "$skip" = 1 ]; then
    local values
    values="$(_nocreds_choices "$path|$prev")"
    if [ -n "$values" ]; then
      COMPREPLY=($(compgen -W "$values" -- "$cur"))
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
  elif [ "\${cur#-}" != "$cur" ]; then
    COMPREPLY=($(compgen -W "$(_nocreds_options "$path")" -- "$cur"))
  else
    local subcommands
    subcommands="$(_nocreds_subcommands "$path")"
    if [ -n "$subcommands" ]; then
      COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
  fi
  return 0
}
complete -F _nocreds_completion nocreds
`;
}

export function zshCompletion(program: Command): string {
  return `#compdef nocreds
# zsh completion for nocreds (the bash completion, through bashcompinit). Load it in ~/.zshrc with:
#   source <(nocreds completion zsh)
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program)
  .split('\n')
  .filter((line) => !line.startsWith('# '))
  .join('\n')}`;
}

export function registerCompletionCommand(program: Command, io: { stdout: (text: string) => void }): void {
  program
    .command('completion')
    .description('print a shell completion script (bash or zsh)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      `
Examples:
  $ source <(nocreds completion bash)                          # this shell
  $ nocreds completion bash > /etc/bash_completion.d/nocreds    # every bash
  $ echo 'source <(nocreds completion zsh)' >> ~/.zshrc`,
    )
    .action((shell: 'bash' | 'zsh') => {
      io.stdout(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}
