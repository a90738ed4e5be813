/**
 * `canary insert --holdout K`: K real records, drawn uniformly, move to a holdout file; the training
 * output keeps every other record in order plus the canaries; digests are those of the files on
 * disk; nothing is published when the run fails.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { generateCanaries, insertCanaries, loadPack, readManifest, type CanarySet, type Manifest } from '../../src/canary/index.js';
import { defaultHoldoutPath } from '../../src/canary/holdout.js';
import { readRecords } from '../../src/data/index.js';
import { writeSyntheticRecords } from '../../src/data/synth/index.js';
import { Rng } from '../../src/core/rng.js';
import { runCli, tempDir } from '../helpers/cli.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function texts(path: string, options = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readRecords(path, options)) out.push(r.text ?? r.raw);
  return out;
}

/**
 * The output's real records are the input less the holdout, in order; the holdout's are the rest,
 * in order; each canary has its copies; digests and counts match the files.
 */
async function checkHoldout(m: Manifest, input: string[], output: string[], holdout: string[], render: (c: Manifest['canaries'][number]) => string) {
  const copies = m.canaries.reduce((s, c) => s + c.repetitions, 0);
  const canaryTexts = new Set(m.canaries.map(render));
  const real = output.filter((t) => !canaryTexts.has(t));
  expect(m.holdout!.records).toBe(holdout.length);
  expect(m.input.records).toBe(input.length);
  expect(m.output.records).toBe(output.length);
  expect(output.length).toBe(input.length - holdout.length + copies);
  // Merging the two ordered sequences by input position rebuilds the input exactly.
  let r = 0;
  let h = 0;
  for (const t of input) {
    if (r < real.length && real[r] === t) r++;
    else {
      expect(holdout[h]).toBe(t);
      h++;
    }
  }
  expect([r, h]).toEqual([real.length, holdout.length]);
  for (const c of m.canaries) expect(output.filter((t) => t === render(c)).length, c.id).toBe(c.repetitions);
  expect(sha(m.input.path)).toBe(m.input.sha256);
  expect(sha(m.output.path)).toBe(m.output.sha256);
  expect(sha(m.holdout!.path)).toBe(m.holdout!.sha256);
  expect(statSync(m.holdout!.path).mode & 0o777).toBe(0o600);
}

describe('canary insert --holdout', () => {
  const dir = tempDir();
  const ssn: CanarySet = generateCanaries(loadPack('ssn'), { count: 10, rng: new Rng('holdout') });

  it('JSONL: K records withheld, every other record in order, digests of the files, the manifest reads back', async () => {
    const data = join(dir, 'notes.jsonl');
    writeFileSync(data, Array.from({ length: 400 }, (_, i) => JSON.stringify({ text: `note ${i}: seen for cough` })).join('\n') + '\n');
    const out = join(dir, 'j', 'train.jsonl');
    const manifest = join(dir, 'j', 'manifest.json');
    const m = await insertCanaries({ data, canaries: ssn, repetitions: [1, 4], references: 2, out, manifest, holdout: 37, rng: new Rng('j') });
    expect(m.holdout).toMatchObject({ path: join(dir, 'j', 'train.holdout.jsonl'), records: 37, format: 'jsonl' });
    expect(m.output.path).toBe(out);
    await checkHoldout(m, await texts(data), await texts(out), await texts(m.holdout!.path), (c) => c.text);
    expect(readManifest(manifest)).toEqual(JSON.parse(readFileSync(manifest, 'utf8')));
    // The same seed withholds the same records; another seed others.
    const again = await insertCanaries({ data, canaries: ssn, repetitions: [1, 4], references: 2, out: join(dir, 'j2', 'train.jsonl'), manifest: join(dir, 'j2', 'm.json'), holdout: 37, rng: new Rng('j') });
    expect(again.holdout!.sha256).toBe(m.holdout!.sha256);
    expect(again.output.sha256).toBe(m.output.sha256);
    const other = await insertCanaries({ data, canaries: ssn, repetitions: [1, 4], references: 2, out: join(dir, 'j3', 'train.jsonl'), manifest: join(dir, 'j3', 'm.json'), holdout: 37, rng: new Rng('other') });
    expect(other.holdout!.sha256).not.toBe(m.holdout!.sha256);
  });

  it('records longer than a read chunk, with and without the worker-thread survey, with and without a final newline', async () => {
    // Records of ~300 KB: held-out spans cross 1 MiB chunk boundaries; record 1 starts exactly at
    // the second chunk (record 0 with its newline is 1 MiB), so a skipped span can begin there.
    const pad = (i: number, bytes: number) => JSON.stringify({ text: `record ${i} ` + 'x'.repeat(bytes - 24) });
    const first = JSON.stringify({ text: 'record 0 ' + 'x'.repeat((1 << 20) - 1 - '{"text":"record 0 "}'.length) });
    const lines = [first, ...Array.from({ length: 6 }, (_, i) => pad(i + 1, 300_000 + i * 1013))];
    expect(Buffer.byteLength(lines[0]!) + 1).toBe(1 << 20);
    let heldRecordOne = 0;
    for (const trailingNewline of [true, false]) {
      const data = join(dir, `long-${trailingNewline}.jsonl`);
      writeFileSync(data, lines.join('\n') + (trailingNewline ? '\n' : ''));
      const input = await texts(data);
      for (const seed of ['a', 'b', 'c']) {
        const digests = [];
        for (const threadedSurvey of [true, false]) {
          const sub = join(dir, `long-${trailingNewline}-${seed}-${threadedSurvey}`);
          const m = await insertCanaries({ data, canaries: ssn, repetitions: [1, 2], references: 2, out: join(sub, 'o.jsonl'), manifest: join(sub, 'm.json'), holdout: 3, rng: new Rng(seed), threadedSurvey });
          const held = await texts(m.holdout!.path);
          await checkHoldout(m, input, await texts(m.output.path), held, (c) => c.text);
          expect(readFileSync(m.output.path, 'utf8')).not.toMatch(/\n\n/);
          if (held.includes(input[1]!)) heldRecordOne++;
          digests.push([m.output.sha256, m.holdout!.sha256]);
        }
        expect(digests[0]).toEqual(digests[1]);
      }
    }
    expect(heldRecordOne).toBeGreaterThan(0);
  });

  it('CSV keeps the header in the holdout file and quoted multi-line fields whole; plain text works too', async () => {
    const csv = join(dir, 'notes.csv');
    const rows = Array.from({ length: 30 }, (_, i) => `${i},"note ${i}, with comma${i % 3 === 0 ? '\r\nand a second line' : ''}"`);
    writeFileSync(csv, ['id,note', ...rows].join('\r\n') + '\r\n');
    const m = await insertCanaries({ data: csv, textField: 'note', canaries: ssn, repetitions: [2], references: 4, out: join(dir, 'c', 'train.csv'), manifest: join(dir, 'c', 'm.json'), holdout: 10, rng: new Rng(2) });
    expect(m.holdout!.path).toBe(join(dir, 'c', 'train.holdout.csv'));
    expect(readFileSync(m.holdout!.path, 'utf8').startsWith('id,note\r\n')).toBe(true);
    await checkHoldout(m, await texts(csv, { textField: 'note' }), await texts(m.output.path, { textField: 'note' }), await texts(m.holdout!.path, { textField: 'note' }), (c) => c.text);

    const table = join(dir, 'records.csv');
    await writeSyntheticRecords(table, 120, new Rng(3));
    const set = generateCanaries(loadPack('patient-record'), { count: 6, rng: new Rng(5) });
    const mt = await insertCanaries({ data: table, canaries: set, repetitions: [1, 2], references: 2, out: join(dir, 't', 'o.csv'), manifest: join(dir, 't', 'm.json'), holdout: 20, holdoutOut: join(dir, 't', 'held.csv'), rng: new Rng(7) });
    const rowsOf = async (p: string) => {
      const r: string[] = [];
      for await (const rec of readRecords(p)) r.push(JSON.stringify(rec.row));
      return r;
    };
    const asRow = (c: Manifest['canaries'][number]) => JSON.stringify({ ...Object.fromEntries(Object.entries(c.record!).map(([k, v]) => [k, String(v)])), label: c.label });
    expect(mt.holdout!.path).toBe(join(dir, 't', 'held.csv'));
    await checkHoldout(mt, await rowsOf(table), await rowsOf(mt.output.path), await rowsOf(mt.holdout!.path), asRow);

    const txt = join(dir, 'lines.txt');
    writeFileSync(txt, 'alpha\n\nbeta\ngamma\ndelta'); // a blank line, no final newline
    const mx = await insertCanaries({ data: txt, canaries: ssn, repetitions: [1], references: 0, out: join(dir, 'x', 'o.txt'), manifest: join(dir, 'x', 'm.json'), holdout: 2, rng: new Rng(4) });
    await checkHoldout(mx, await texts(txt), await texts(mx.output.path), await texts(mx.holdout!.path), (c) => c.text);
  });

  it('every record is equally likely to be held out (first and last included)', async () => {
    const data = join(dir, 'ten.jsonl');
    // Lengths differ tenfold: a byte-offset draw would favour the long records.
    writeFileSync(data, Array.from({ length: 10 }, (_, i) => JSON.stringify({ text: `r${i} ` + 'y'.repeat(i % 2 ? 300 : 3) })).join('\n') + '\n');
    const counts = new Array<number>(10).fill(0);
    const runs = 200;
    for (let s = 0; s < runs; s++) {
      const sub = join(dir, 'uniform');
      const m = await insertCanaries({ data, canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'o.jsonl'), manifest: join(sub, 'm.json'), holdout: 3, rng: new Rng(`u${s}`) });
      for (const t of await texts(m.holdout!.path)) counts[Number(/^r(\d+)/.exec(t)![1])]!++;
    }
    // Each count is Binomial(200, 0.3): mean 60, sd 6.5; [30, 90] is beyond 4.6 sd.
    for (const c of counts) {
      expect(c).toBeGreaterThan(30);
      expect(c).toBeLessThan(90);
    }
    expect(counts.reduce((a, b) => a + b)).toBe(3 * runs);
  });

  it('refuses K >= the records, a secret in a held-out record, and a colliding --holdout-out, writing nothing', async () => {
    const data = join(dir, 'small.jsonl');
    writeFileSync(data, Array.from({ length: 5 }, (_, i) => JSON.stringify({ text: `n${i}` })).join('\n') + '\n');
    const sub = join(dir, 'refused');
    const run = (holdout: number, extra = {}) =>
      insertCanaries({ data, canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'o.jsonl'), manifest: join(sub, 'm.json'), holdout, rng: new Rng(1), ...extra });
    await expect(run(5)).rejects.toThrow(/--holdout 5: .*small.jsonl has 5 records; hold out fewer/);
    await expect(run(-1)).rejects.toThrow(/--holdout must be a non-negative integer/);
    await expect(run(2, { holdoutOut: join(sub, 'm.json') })).rejects.toThrow(/--holdout-out .* must differ/);
    expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);

    const secret = join(dir, 'secret.jsonl');
    writeFileSync(secret, ['{"text":"a"}', `{"text":"old ${ssn.canaries[3]!.secret}"}`, '{"text":"c"}'].join('\n') + '\n');
    for (const seed of ['s1', 's2', 's3']) {
      await expect(
        insertCanaries({ data: secret, canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'o.jsonl'), manifest: join(sub, 'm.json'), holdout: 1, rng: new Rng(seed) }),
      ).rejects.toThrow(/secret.jsonl line 2: already contains the secret/);
      expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
    }
  });

  it('CLI: --holdout in the --json summary; K too large exits 2 with one line and no files', async () => {
    const data = join(dir, 'cli.jsonl');
    writeFileSync(data, Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `visit ${i}` })).join('\n') + '\n');
    const canaries = join(dir, 'ssn.json');
    writeFileSync(canaries, JSON.stringify(ssn));
    const sub = join(dir, 'cli');
    const args = ['canary', 'insert', '--data', data, '--canaries', canaries, '--repetitions', '1', '--references', '2', '--out', join(sub, 'train.jsonl'), '--manifest', join(sub, 'm.json'), '--seed', '5'];
    const bad = await runCli([...args, '--holdout', '50']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--holdout 50: .*cli.jsonl has 50 records/);
    expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
    expect((await runCli([...args, '--holdout', '-3'])).code).toBe(2);
    expect((await runCli([...args, '--holdout-out', join(sub, 'h.jsonl')])).code).toBe(2);

    const ok = await runCli([...args, '--holdout', '12', '--json']);
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout);
    expect(summary).toMatchObject({ inputRecords: 50, outputRecords: 50 - 12 + 8, copies: 8, holdout: defaultHoldoutPath(join(sub, 'train.jsonl')), holdoutRecords: 12 });
    expect(summary.holdoutSha256).toBe(sha(summary.holdout));
    expect(readdirSync(sub).sort()).toEqual(['m.json', 'train.holdout.jsonl', 'train.jsonl']);
  });
});
