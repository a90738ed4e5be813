/**
 * Every command group, registered in one place. Each module is thin: parse flags, call the
 * library, print. Add a new group by importing its CommandModule here.
 *
 * Start-up cost: a module listed here is loaded on every run (`--version`, `--help`, `accountant`),
 * so its top level defines flags only and its handler imports the library. A module that cannot be
 * kept that light is listed with `lazy(...)` instead: it is loaded only when its command is the one
 * invoked, and otherwise stands in --help as its name and description.
 */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './context.js';
import { doctorCommand } from './doctor.js';
import { canaryCommand } from './canary.js';
import { synthCommandGroup } from './synth.js';
import { accountantCommand } from './accountant.js';
import { serveCommand } from './serve.js';
import { probeCommand } from './probe.js';
import { attestCommand } from './attest.js';
import { auditLogCommand } from './audit-log.js';
import { trainCommand } from './train.js';
import { demoCommand } from './demo.js';
import { planCommand } from './plan.js';
import { workerCommand } from './worker.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandModule<GlobalArgs, any>;

/** A command whose module is imported only when it runs. */
export interface LazyCommand {
  lazy: true;
  /** The command's first word, as in its module's `command`. */
  name: string;
  /** Shown by `memaudit --help`; equal to the module's own `describe` (test/core/startup.test.ts). */
  describe: string;
  load: () => Promise<AnyCommand>;
}

function lazy(name: string, describe: string, load: () => Promise<AnyCommand>): LazyCommand {
  return { lazy: true, name, describe, load };
}

// audit and gate import the report, policy and probe modules (TensorFlow.js for audit) at their
// top level, so they load only when invoked.
export const commands: (AnyCommand | LazyCommand)[] = [
  doctorCommand,
  canaryCommand,
  synthCommandGroup,
  accountantCommand,
  serveCommand,
  probeCommand,
  lazy('audit', 'Run the required probes, decide PHI / NOT_PHI / INCONCLUSIVE, write the report and the attestation', async () => (await import('./audit.js')).auditCommand),
  lazy(
    'gate',
    "Re-decide a report's verdict (optionally under another policy; with --attestation and --key only a report the signed attestation vouches for): exit 0 NOT_PHI, 1 PHI or unverifiable report, 3 INCONCLUSIVE",
    async () => (await import('./gate.js')).gateCommand,
  ),
  attestCommand,
  auditLogCommand,
  trainCommand,
  demoCommand,
  planCommand,
  workerCommand,
];

export function isLazy(c: AnyCommand | LazyCommand): c is LazyCommand {
  return (c as LazyCommand).lazy === true;
}

/**
 * The modules to register for this argv: the invoked lazy command loaded, every other one as a
 * placeholder that only lists it in --help.
 */
export async function resolveCommands(invoked: string | undefined): Promise<AnyCommand[]> {
  return Promise.all(
    commands.map(async (c) => {
      if (!isLazy(c)) return c;
      if (c.name === invoked) return c.load();
      return {
        command: c.name,
        describe: c.describe,
        handler: () => {
          // Unreachable while invokedCommand() finds the command yargs runs; fail loudly if not.
          throw new Error(`command ${c.name} ran without its module loaded`);
        },
      } satisfies AnyCommand;
    }),
  );
}
