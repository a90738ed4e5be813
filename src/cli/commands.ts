/**
 * Every command group, registered in one place. Each module is thin: parse flags, call the
 * library, print. Add a new group by importing its CommandModule here.
 */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './context.js';
import { doctorCommand } from './doctor.js';
import { canaryCommand } from './canary.js';
import { synthCommandGroup } from './synth.js';
import { accountantCommand } from './accountant.js';
import { serveCommand } from './serve.js';
import { probeCommand } from './probe.js';
import { auditCommand } from './audit.js';
import { gateCommand } from './gate.js';
import { attestCommand } from './attest.js';
import { auditLogCommand } from './audit-log.js';
import { trainCommand } from './train.js';
import { demoCommand } from './demo.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<GlobalArgs, any>[] = [
  doctorCommand,
  canaryCommand,
  synthCommandGroup,
  accountantCommand,
  serveCommand,
  probeCommand,
  auditCommand,
  gateCommand,
  attestCommand,
  auditLogCommand,
  trainCommand,
  demoCommand,
];
