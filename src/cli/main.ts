#!/usr/bin/env node
/** The `memaudit` executable: global flags, command registration, one-line usage errors (exit 2). */
import type { Argv } from 'yargs';
import { hideBin, Parser } from 'yargs/helpers';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../core/errors.js';
import { toolVersion } from '../core/version.js';
import { redactTarget } from '../targets/redact.js';
import { resolveCommands, type AnyCommand } from './commands.js';
import { globalOptionNames, globalOptions, type GlobalArgs } from './context.js';
import { probeOptionsHint } from './probe.js';
import { globalGroup, helpWidth, tidyHelp } from './help.js';

// yargs' CommonJS build: its help layout wraps at word boundaries (wrap-ansi), where the ESM
// build's stand-in wraps every N characters and splits words ("P/HI?").
const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;

/**
 * The command yargs will run: the first positional word, read with yargs' own parser and the
 * global flags' types (so `--seed 7 gate` finds gate, not 7). Lets main() load a lazy command's
 * module before yargs needs its flags.
 */
export function invokedCommand(argv: string[]): string | undefined {
  const parsed = Parser(argv, {
    boolean: ['json', 'quiet', 'help', 'version'],
    string: ['seed', 'backend'],
    alias: { help: ['h'] },
  });
  const first = parsed._[0];
  return first === undefined ? undefined : String(first);
}

export function buildCli(argv: string[], commands: AnyCommand[]) {
  let y = globalOptions(yargs(argv) as unknown as Argv<GlobalArgs>)
    .scriptName('memaudit')
    .usage('memaudit <command> [options]\n\nMemorization testing for models trained on PHI: must the weights be treated as PHI?')
    .version(toolVersion)
    .alias('help', 'h')
    .strict()
    .demandCommand(1, 'Name a command (memaudit --help lists them)')
    .recommendCommands()
    .wrap(helpWidth())
    // The global flags in a group of their own, which tidyHelp moves after the command's own options.
    .group([...globalOptionNames, 'help', 'version'], globalGroup)
    .exitProcess(false)
    .fail((message, error) => {
      // One line, exit 2: yargs' message for bad usage, or the UsageError a coerce function threw.
      const line = (error?.message ?? message ?? 'bad usage').split('\n')[0];
      // The words may be flag values (`worker --queue redis://user:password@host`): never echo credentials.
      const command = redactTarget(argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' '));
      process.stderr.write(`memaudit${command ? ' ' + command : ''}: ${line}${probeOptionsHint(argv, line)} (see --help)\n`);
      process.exitCode = ExitCode.usage;
      throw new CliUsageFailure();
    });
  for (const command of commands) y = y.command(command);
  return y;
}

/** Thrown from the fail handler to stop yargs after the usage line was printed. */
class CliUsageFailure extends Error {}

export async function main(argv: string[]): Promise<void> {
  try {
    const cli = buildCli(argv, await resolveCommands(invokedCommand(argv)));
    // With a parse callback yargs hands its own output (--help, --version) here instead of printing it.
    await cli.parseAsync(argv, {}, (_error, _args, output) => {
      if (output) process.stdout.write(tidyHelp(output) + '\n');
    });
  } catch (e) {
    if (e instanceof CliUsageFailure) return;
    throw e;
  }
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(hideBin(process.argv)).catch((e: unknown) => {
    process.stderr.write(`memaudit: internal error (a bug in memaudit): ${(e as Error)?.message ?? e}\n`);
    if (process.env.MEMAUDIT_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = ExitCode.internal;
  });
}
