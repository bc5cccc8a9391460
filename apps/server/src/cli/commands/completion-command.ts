import { Argument, type Command } from 'commander';
import { action, type CliContext } from '../cli-context.js';
import { bashCompletion, zshCompletion } from '../completion.js';
import { EXIT } from '../exit-codes.js';

/** `hodei completion bash|zsh`: a completion script made from the command tree. */
export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a bash or zsh completion script')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      '\nLoad it in the running shell:  source <(hodei completion bash)\nor for every shell, e.g.:      hodei completion bash > ~/.local/share/bash-completion/completions/hodei',
    )
    .action(
      action(ctx, (shell: 'bash' | 'zsh') => {
        ctx.io.out(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
        return Promise.resolve(EXIT.ok);
      }),
    );
}
