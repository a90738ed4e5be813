/**
 * `memaudit demo --quick` from the built CLI, as a new user runs it: it plants what `plan` sizes,
 * both verdicts as promised (the non-DP model is PHI; the DP model is not PHI for a memorization
 * reason, and its summary says what a full audit needs), the training provenance is signed and
 * trusted, the attestations verify against the models, the audit log chains, and no canary text
 * reaches a report.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { demoAuditPlan, demoPlanCommand } from '../../src/demo/plan.js';
import { humanSummary } from '../../src/cli/demo.js';
import type { DemoResult } from '../../src/demo/run.js';

interface DemoJson {
  backend: string;
  auditLog: string;
  publicKey: string;
  manifest: string;
  holdout: number;
  plan: { canaries: Record<string, number>; references: number; holdout: number; members: number };
  seededNoise: boolean;
  runs: {
    name: 'no-dp' | 'dp';
    verdict: string;
    headline: string;
    exitCode: number;
    epsilon: number | null;
    report: string;
    attestation: string;
    modelDir: string;
    extracted: { extracted: number; attempted: number } | null;
    reasons: { probe: string; metric: string; value: number | null; threshold: number | null; outcome: string }[];
  }[];
}

let out: string;
let demo: DemoJson;
let code: number | null;
let stderr: string;

beforeAll(async () => {
  out = join(tempDir(), 'demo');
  const r = await runCli(['demo', '--quick', '--out', out, '--seed', '11', '--json'], { timeoutMs: 400_000 });
  code = r.code;
  stderr = r.stderr;
  demo = JSON.parse(r.stdout) as DemoJson;
}, 420_000);

describe('memaudit demo --quick', () => {
  it('completes and prints the runs of the --json contract', () => {
    expect(code, stderr).toBe(0);
    expect(demo.runs.map((r) => r.name)).toEqual(['no-dp', 'dp']);
    for (const r of demo.runs) for (const key of ['name', 'verdict', 'epsilon', 'report', 'attestation']) expect(r).toHaveProperty(key);
  });

  it('finds the model trained without DP to be PHI, for a memorization reason', () => {
    const noDp = demo.runs.find((r) => r.name === 'no-dp')!;
    expect(noDp.verdict).toBe('PHI');
    expect(noDp.exitCode).toBe(1);
    expect(noDp.epsilon).toBeNull();
    const memorization = noDp.reasons.filter((x) => x.outcome === 'PHI' && (x.probe === 'exposure' || x.probe === 'extraction'));
    expect(memorization.length).toBeGreaterThan(0);
  });

  it('never finds the DP model (epsilon <= 3) PHI for a memorization reason', () => {
    const dp = demo.runs.find((r) => r.name === 'dp')!;
    expect(dp.epsilon).not.toBeNull();
    expect(dp.epsilon!).toBeLessThanOrEqual(3);
    expect(dp.verdict).not.toBe('PHI');
    expect([0, 3]).toContain(dp.exitCode);
    expect(dp.reasons.filter((x) => x.outcome === 'PHI')).toEqual([]);
  });

  it("plants plan's canaries, references and (a quick run's smaller) holdout, and says what a full audit needs", () => {
    const plan = demoAuditPlan();
    expect(demo.plan).toEqual(JSON.parse(JSON.stringify(plan)));
    const manifest = JSON.parse(readFileSync(demo.manifest, 'utf8')) as { canaries: { role: string; repetitions: number }[] };
    for (const [repetitions, count] of Object.entries(plan.canaries)) {
      expect(manifest.canaries.filter((c) => c.role === 'inserted' && c.repetitions === Number(repetitions)).length).toBe(count);
    }
    expect(manifest.canaries.filter((c) => c.role === 'reference').length).toBe(plan.references);
    expect(demo.holdout).toBeGreaterThan(0);
    expect(demo.holdout).toBeLessThan(plan.holdout);
    const dp = demo.runs.find((r) => r.name === 'dp')!;
    expect(dp.headline).toMatch(/^INCONCLUSIVE for records that occur up to 4 times/);
    const summary = humanSummary(demo as unknown as DemoResult);
    expect(summary).toContain(`a holdout of ${plan.holdout} real records (this run withheld ${demo.holdout})`);
    expect(summary).toContain('DP noise from the CSPRNG');
    expect(summary).toContain('run `npx memaudit demo` (without --quick or --seed)');
    expect(summary).toContain(`\`${demoPlanCommand}\` gives`);
  });

  it('signs the training provenance with the demo key and the audit trusts it', async () => {
    const dp = demo.runs.find((r) => r.name === 'dp')!;
    const report = JSON.parse(readFileSync(dp.report, 'utf8')) as { dpClaim?: { provenance: string; ledgerVerified: boolean } };
    expect(report.dpClaim).toMatchObject({ provenance: 'trusted', ledgerVerified: true });
    const v = await runCli(['attest', 'verify', '--attestation', join(dp.modelDir, 'provenance.dsse.json'), '--key', demo.publicKey, '--model', dp.modelDir, '--json']);
    expect(v.code, v.stderr).toBe(0);
  });

  it('writes attestations that verify against the model files, and an intact audit log', async () => {
    for (const r of demo.runs) {
      const v = await runCli(['attest', 'verify', '--attestation', r.attestation, '--key', demo.publicKey, '--model', r.modelDir, '--json']);
      expect(v.code, v.stderr).toBe(0);
      expect(JSON.parse(v.stdout).verdict).toBe(r.verdict);
    }
    const log = await runCli(['audit-log', 'verify', '--audit-log', demo.auditLog, '--json']);
    expect(log.code, log.stderr).toBe(0);
    // two train runs and two audits at least
    expect(JSON.parse(log.stdout).entries).toBeGreaterThanOrEqual(4);
  });

  it('keeps canary texts and secrets out of reports and attestations', () => {
    const manifest = JSON.parse(readFileSync(demo.manifest, 'utf8')) as { canaries: { text: string; secret: string }[] };
    for (const r of demo.runs) {
      const dir = join(r.report, '..');
      for (const f of ['report.json', 'report.md', 'report.html']) {
        const text = readFileSync(join(dir, f), 'utf8');
        for (const c of manifest.canaries) {
          expect(text.includes(c.text)).toBe(false);
          expect(text.includes(c.secret)).toBe(false);
        }
      }
      const payload = Buffer.from(JSON.parse(readFileSync(r.attestation, 'utf8')).payload, 'base64').toString();
      for (const c of manifest.canaries) expect(payload.includes(c.secret)).toBe(false);
    }
  });
});
