/**
 * `memaudit gate --report R [--policy P] [--junit F]`: re-decides the verdict from a report's
 * evidence (no re-probing), so a stricter policy can be applied later. Exit 0 NOT_PHI, 1 PHI,
 * 3 INCONCLUSIVE. Without --policy the report's own policy is used.
 */
import type { Argv, CommandModule } from 'yargs';
import { writeFileAtomic } from '../core/atomic.js';
import { sha256File, sha256Hex } from '../core/hash.js';
import { loadPolicy, policyDigest } from '../policy/load.js';
import type { LoadedPolicy } from '../policy/types.js';
import { decide } from '../policy/verdict.js';
import { evidenceOf, readReport, summaryRows } from '../report/assemble.js';
import { githubAnnotations, renderJunit } from '../report/ci.js';
import { verdictHeadline } from '../report/document.js';
import { auditLogOptions, recordRun, type AuditLogArgs } from './audit-log.js';
import { runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';
import { renderTable } from '../core/format.js';

interface GateArgs extends GlobalArgs, AuditLogArgs {
  report: string;
  policy?: string;
  junit?: string;
}

export const gateCommand: CommandModule<GlobalArgs, GateArgs> = {
  command: 'gate',
  describe: "Re-decide a report's verdict (optionally under another policy): exit 0 NOT_PHI, 1 PHI, 3 INCONCLUSIVE",
  builder: (y) =>
    auditLogOptions(
      y
        .option('report', { type: 'string', demandOption: true, describe: 'RUN_DIR/report.json written by `memaudit audit`' })
        .option('policy', { type: 'string', describe: "Policy file to decide with [default: the report's own policy]" })
        .option('junit', { type: 'string', describe: 'Also write the checks as JUnit XML to this file' }),
    ) as unknown as Argv<GateArgs>,
  handler: (args) =>
    runCommand('gate', async () => {
      const report = readReport(args.report);
      const policy: LoadedPolicy = args.policy ? loadPolicy(args.policy) : { policy: report.policy, digest: policyDigest(report.policy), source: `${args.report} (the audit's policy)` };
      const verdict = decide(evidenceOf(report), policy);
      const outputs = [];
      if (args.junit) {
        const xml = renderJunit(verdict, args.report);
        writeFileAtomic(args.junit, xml);
        outputs.push({ name: args.junit, sha256: sha256Hex(xml) });
      }
      const annotations = process.env.GITHUB_ACTIONS === 'true' ? githubAnnotations(verdict, args.report) : [];
      // Workflow commands are read from stdout; with --json stdout holds only the JSON, so they go to stderr.
      for (const line of annotations) (args.json ? process.stderr : process.stdout).write(line + '\n');
      emit(args, { verdict: verdict.verdict, reasons: verdict.reasons, report: args.report, policy: verdict.policy, previousVerdict: report.verdict.verdict, junit: args.junit ?? null }, () => {
        const changed = report.verdict.verdict !== verdict.verdict ? ` (the audit said ${report.verdict.verdict} under ${report.verdict.policy.name})` : '';
        return `${renderTable(summaryRows(report, verdict))}${verdictHeadline[verdict.verdict]}${changed}\npolicy: ${verdict.policy.name} (${verdict.policy.source})`;
      });
      recordRun(args, {
        command: 'gate',
        inputs: [
          { name: args.report, sha256: await sha256File(args.report) },
          { name: 'policy', sha256: verdict.policy.digest },
        ],
        outputs,
        exitCode: verdict.exitCode,
        verdict: verdict.verdict,
      });
      return verdict.exitCode;
    }),
};
