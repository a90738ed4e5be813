/**
 * The global flags every command takes (DESIGN.md "Command surface") and the wrapper that turns a
 * command's outcome into an exit code.
 */
import type { Argv } from 'yargs';
import { backendPreferences, type BackendPreference } from '../core/backend-names.js';
import { createProgress, type Progress } from '../core/progress.js';
import { describeError, ExitCode } from '../core/errors.js';

export interface GlobalArgs {
  json: boolean;
  quiet: boolean;
  seed?: string;
  backend: BackendPreference;
}

/** The global flags' names, listed after each command's own in --help. */
export const globalOptionNames = ['json', 'quiet', 'seed', 'backend'] as const;

export function globalOptions<T>(y: Argv<T>) {
  return y
    .option('json', { type: 'boolean', default: false, global: true, describe: 'Print the machine-readable result on stdout, nothing else' })
    .option('quiet', { type: 'boolean', default: false, global: true, describe: 'Print nothing but errors (and the --json result)' })
    .option('seed', {
      type: 'string',
      global: true,
      describe: 'Seed for every random draw, for a reproducible run (DP noise then comes from it too and is recorded as seeded)',
    })
    .option('backend', {
      choices: backendPreferences,
      default: 'auto' as BackendPreference,
      global: true,
      describe: 'TensorFlow.js backend: auto takes tfjs-node if it loads, else wasm, else cpu',
    });
}

/** Progress on stderr for this command: a live line on a TTY, a plain line every ~10 s otherwise, none with --quiet. */
export function progressFor(args: GlobalArgs): Progress {
  return createProgress({ quiet: args.quiet });
}

/**
 * Runs a command body and records its exit code. The body returns the exit code it decided on
 * (0 by default; `gate` and `audit` return 1 or 3). Known errors print one line; unknown errors
 * print one line too and exit 70 (the stack only with MEMAUDIT_DEBUG=1).
 */
export async function runCommand(name: string, body: () => Promise<ExitCode | void>): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? ExitCode.ok;
  } catch (e) {
    const { line, exitCode } = describeError(e);
    process.stderr.write(`memaudit ${name}: ${line}\n`);
    if (process.env.MEMAUDIT_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    process.exitCode = exitCode;
  }
}
