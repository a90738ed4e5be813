/**
 * Exposure benchmark (issue 7): exact exposure of one canary over a 10^5-candidate space (five
 * digits) on the default charlm, enumerating with shared prefixes (11,111 contexts, batched) versus
 * scoring every candidate text separately (10^5 texts through scoreTexts), measured side by side.
 * Goal: prefix sharing at least 5x faster. Both must give the same rank.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretSpaceFromSpec } from '../src/canary/secret-space.js';
import { openTarget } from '../src/targets/index.js';
import { exactRank } from '../probes/exposure.js';
import { SecretScorer } from '../probes/secret-scoring.js';
import type { BenchRow, BenchSuite } from './suite.js';
import { untrainedCharLmDir } from './model-fixture.js';

const prefix = 'Patient portal PIN: ';
const secret = '40721';

export const exposureSuite: BenchSuite = {
  name: 'exposure',
  async run(): Promise<BenchRow[]> {
    const dir = mkdtempSync(join(tmpdir(), 'memaudit-bench-exposure-'));
    try {
      const target = await openTarget(await untrainedCharLmDir(dir, [`${prefix}0123456789. Seen for cough; plan: rest.`], 7));
      const descriptor = await target.describe();
      const space = secretSpaceFromSpec({ slots: [{ format: 'digits', params: { length: 5 } }] });
      const candidates = Number(space.size);
      const shared = await SecretScorer.create(target, descriptor, { method: 'prefix-shared' });
      const separate = await SecretScorer.create(target, descriptor, { method: 'per-text' });
      // Warm up both paths (kernel compilation), then time one full enumeration each.
      await shared.scoreCandidates(prefix, ['00000', '12345']);
      await separate.scoreCandidates(prefix, ['00000', '12345']);
      let t0 = performance.now();
      const a = await shared.scoreSpace(prefix, space, [secret]);
      const sharedMs = performance.now() - t0;
      t0 = performance.now();
      const b = await separate.scoreSpace(prefix, space, [secret]);
      const separateMs = performance.now() - t0;
      await target.close();
      const rankShared = exactRank(a.all, a.secrets[0]!);
      const rankSeparate = exactRank(b.all, b.secrets[0]!);
      if (Math.abs(rankShared - rankSeparate) > 1 || Math.abs(a.secrets[0]! - b.secrets[0]!) > 1e-3) {
        throw new Error(`exposure bench: the two enumerations disagree (rank ${rankShared} vs ${rankSeparate})`);
      }
      const ratio = separateMs / sharedMs;
      return [
        { area: 'exposure', figure: 'exact exposure, 10^5 space: per-text time / prefix-shared time', value: ratio, unit: 'x', target: '>= 5', pass: ratio >= 5 },
        { area: 'exposure', figure: 'prefix-shared enumeration', value: candidates / (sharedMs / 1000), unit: 'candidates/s' },
        { area: 'exposure', figure: 'per-text enumeration', value: candidates / (separateMs / 1000), unit: 'candidates/s' },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
