import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { generateCanaries, insertCanaries, loadPack, readManifest, type CanarySet, type Manifest } from '../../src/canary/index.js';
import { readRecords } from '../../src/data/index.js';
import { writeSyntheticNotes, writeSyntheticRecords } from '../../src/data/synth/index.js';
import { Rng } from '../../src/core/rng.js';
import { tempDir } from '../helpers/cli.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function texts(path: string, options = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readRecords(path, options)) out.push(r.text ?? r.raw);
  return out;
}

/** Every check a user relies on: counts, order, copies per canary, references absent, digests. */
async function checkInsertion(m: Manifest, inputTexts: string[], outputTexts: string[], render: (c: Manifest['canaries'][number]) => string) {
  const copies = m.canaries.reduce((s, c) => s + c.repetitions, 0);
  expect(m.input.records).toBe(inputTexts.length);
  expect(m.output.records).toBe(inputTexts.length + copies);
  expect(outputTexts).toHaveLength(m.output.records);
  const counts = new Map<string, number>();
  for (const t of outputTexts) counts.set(t, (counts.get(t) ?? 0) + 1);
  for (const c of m.canaries) expect(counts.get(render(c)) ?? 0, c.id).toBe(c.repetitions);
  const canaryTexts = new Set(m.canaries.map(render));
  expect(outputTexts.filter((t) => !canaryTexts.has(t))).toEqual(inputTexts);
  expect(sha(m.input.path)).toBe(m.input.sha256);
  expect(sha(m.output.path)).toBe(m.output.sha256);
  expect(readManifest(join(m.output.path, '..', 'manifest.json')).output.records).toBe(m.output.records);
}

describe('canary insert', () => {
  const dir = tempDir();
  const ssn: CanarySet = generateCanaries(loadPack('ssn'), { count: 12, rng: new Rng('gen') });

  it('JSONL: counts match the manifest, originals kept in order, references never inserted', async () => {
    const data = join(dir, 'notes.jsonl');
    await writeSyntheticNotes(data, 300, new Rng(1));
    const out = join(dir, 'out.jsonl');
    const m = await insertCanaries({ data, canaries: ssn, repetitions: [1, 4, 16], references: 3, out, manifest: join(dir, 'manifest.json'), rng: new Rng('ins') });
    expect(m.canaries.filter((c) => c.role === 'reference')).toHaveLength(3);
    expect(m.canaries.filter((c) => c.role === 'inserted').map((c) => c.repetitions).sort((a, b) => a - b)).toEqual([1, 1, 1, 4, 4, 4, 16, 16, 16]);
    expect(m.textField).toBe('text');
    await checkInsertion(m, await texts(data), await texts(out), (c) => c.text);
    // Copies are spread, not bunched at one place.
    const lines = (await texts(out)).map((t, i) => [t, i] as const).filter(([t]) => ssn.canaries.some((c) => c.text === t));
    expect(new Set(lines.map(([, i]) => Math.floor(i / 50))).size).toBeGreaterThan(3);
  });

  it('is deterministic with a seed', async () => {
    const data = join(dir, 'notes.jsonl');
    const run = async (tag: string, seed: string) => {
      const m = await insertCanaries({ data, canaries: ssn, repetitions: [2, 3], references: 2, out: join(dir, `d${tag}.jsonl`), manifest: join(dir, `d${tag}.json`), rng: new Rng(seed) });
      return { bytes: readFileSync(join(dir, `d${tag}.jsonl`), 'utf8'), m: { ...m, createdAt: '', output: { ...m.output, path: '' } } };
    };
    const [a, b, c] = [await run('a', 'x'), await run('b', 'x'), await run('c', 'y')];
    expect(b.bytes).toBe(a.bytes);
    expect(b.m).toEqual(a.m);
    expect(c.bytes).not.toBe(a.bytes);
  });

  it('CSV with table-row canaries: rows in the header order, label column filled', async () => {
    const data = join(dir, 'records.csv');
    await writeSyntheticRecords(data, 200, new Rng(2));
    const set = generateCanaries(loadPack('patient-record'), { count: 8, rng: new Rng(5) });
    const out = join(dir, 'sub', 'out.csv');
    const m = await insertCanaries({ data, canaries: set, repetitions: [1, 3], references: 2, out, manifest: join(dir, 'sub', 'manifest.json'), rng: new Rng(7) });
    expect(m.labelColumn).toBe('label');
    const rows = async (p: string) => {
      const r: string[] = [];
      for await (const rec of readRecords(p)) r.push(JSON.stringify(rec.row));
      return r;
    };
    const asRow = (c: Manifest['canaries'][number]) => JSON.stringify({ ...Object.fromEntries(Object.entries(c.record!).map(([k, v]) => [k, String(v)])), label: c.label });
    await checkInsertion(m, await rows(data), await rows(out), asRow);
  });

  it('CSV with a text pack writes the canary text into --text-field; plain text files get one line each', async () => {
    const csv = join(dir, 'notes.csv');
    writeFileSync(csv, 'id,note\r\n1,"first, with comma"\r\n2,"multi\r\nline"\r\n3,plain\r\n');
    const out = join(dir, 'csvtext', 'out.csv');
    const m = await insertCanaries({ data: csv, textField: 'note', canaries: ssn, repetitions: [2], references: 4, out, manifest: join(dir, 'csvtext', 'manifest.json'), rng: new Rng(1) });
    await checkInsertion(m, await texts(csv, { textField: 'note' }), await texts(out, { textField: 'note' }), (c) => c.text);
    expect(readFileSync(out, 'utf8')).not.toMatch(/[^\r]\n/); // CRLF kept for inserted rows

    const txt = join(dir, 'lines.txt');
    writeFileSync(txt, 'alpha\n\nbeta\ngamma'); // no final newline
    const outTxt = join(dir, 'txt', 'out.txt');
    const mt = await insertCanaries({ data: txt, canaries: ssn, repetitions: [1, 2], references: 0, out: outTxt, manifest: join(dir, 'txt', 'manifest.json'), rng: new Rng(3) });
    await checkInsertion(mt, await texts(txt), await texts(outTxt), (c) => c.text);
  });

  it('bernoulli mode: each canary inserted or a reference by a seeded fair coin', async () => {
    const set = generateCanaries(loadPack('mrn'), { count: 200, rng: new Rng(9) });
    const data = join(dir, 'notes.jsonl');
    const out = join(dir, 'bern', 'out.jsonl');
    const m = await insertCanaries({ data, canaries: set, mode: 'bernoulli', repetitions: [2], out, manifest: join(dir, 'bern', 'manifest.json'), rng: new Rng(4) });
    expect(m.mode).toBe('bernoulli');
    expect(m.inclusionProbability).toBe(0.5);
    const inserted = m.canaries.filter((c) => c.role === 'inserted').length;
    expect(inserted).toBeGreaterThan(70); // Binomial(200, 1/2): outside [70, 130] has probability < 1e-4
    expect(inserted).toBeLessThan(130);
    await checkInsertion(m, await texts(data), await texts(out), (c) => c.text);
    await expect(insertCanaries({ data, canaries: set, mode: 'bernoulli', repetitions: [2], references: 5, out, manifest: join(dir, 'bern', 'm2.json'), rng: new Rng(4) })).rejects.toThrow(/--references applies to --mode fixed/);
  });

  it('refuses when a secret already occurs in the data, and writes nothing', async () => {
    const data = join(dir, 'collide.jsonl');
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ text: `note ${i} with some padding text to cross chunk boundaries` }));
    lines[4321] = JSON.stringify({ text: `old record mentions ${ssn.canaries[7]!.secret} somewhere` });
    writeFileSync(data, lines.join('\n') + '\n');
    const sub = join(dir, 'collide');
    await expect(
      insertCanaries({ data, canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'out.jsonl'), manifest: join(sub, 'manifest.json'), rng: new Rng(1) }),
    ).rejects.toThrow(new RegExp(`collide.jsonl line 4322: already contains the secret of canary ${ssn.canaries[7]!.id}`));
    expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
  });

  it('refuses a CSV row that already has a table-row canary\'s values', async () => {
    const set = generateCanaries(loadPack('patient-record'), { count: 4, rng: new Rng(11) });
    const c = set.canaries[2]!;
    const cols = ['age', 'sex', 'zip', 'bmi', 'systolic_bp', 'glucose', 'smoker', 'prior_admissions'];
    const data = join(dir, 'qi.csv');
    writeFileSync(data, ['age,sex,zip,bmi,systolic_bp,glucose,smoker,prior_admissions,label', '40,F,01234,22,120,100,0,0,0', [...cols.map((k) => c.record![k]), '0'].join(',')].join('\n') + '\n');
    const sub = join(dir, 'qi');
    await expect(
      insertCanaries({ data, canaries: set, repetitions: [1], references: 1, out: join(sub, 'out.csv'), manifest: join(sub, 'manifest.json'), rng: new Rng(1) }),
    ).rejects.toThrow(new RegExp(`qi.csv line 3: this row already has the values of canary ${c.id}`));
    expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
  });

  it('the worker-thread survey (large inputs) gives the same manifest and the same refusals', async () => {
    const data = join(dir, 'notes.jsonl');
    const run = async (threadedSurvey: boolean) => {
      const sub = join(dir, `survey-${threadedSurvey}`);
      const m = await insertCanaries({ data, canaries: ssn, repetitions: [3], references: 2, out: join(sub, 'out.jsonl'), manifest: join(sub, 'manifest.json'), rng: new Rng(8), threadedSurvey });
      return { ...m, createdAt: '', output: { ...m.output, path: '' } };
    };
    expect(await run(true)).toEqual(await run(false));
    const collide = join(dir, 'collide.jsonl');
    const sub = join(dir, 'collide-threaded');
    await expect(
      insertCanaries({ data: collide, canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'out.jsonl'), manifest: join(sub, 'manifest.json'), rng: new Rng(1), threadedSurvey: true }),
    ).rejects.toThrow(new RegExp(`collide.jsonl line 4322: already contains the secret of canary ${ssn.canaries[7]!.id}`));
    expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
  });

  it('a malformed line is an error with its line number, and nothing is written', async () => {
    const data = join(dir, 'broken.jsonl');
    writeFileSync(data, '{"text":"a"}\n{"text":"b"}\n{"text":"c"\n{"text":"d"}\n');
    const sub = join(dir, 'broken');
    await expect(
      insertCanaries({ data, canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'out.jsonl'), manifest: join(sub, 'manifest.json'), rng: new Rng(1) }),
    ).rejects.toThrow(/broken.jsonl line 3: not valid JSON \(column 12: the line ends inside the JSON value\)/);
    expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
    const csv = join(dir, 'broken.csv');
    writeFileSync(csv, 'id,note\n1,a\n2,"never closed\n3,c\n');
    await expect(
      insertCanaries({ data: csv, textField: 'note', canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'out.csv'), manifest: join(sub, 'manifest.json'), rng: new Rng(1) }),
    ).rejects.toThrow(/broken.csv line \d+: /);
    expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
  });
});
