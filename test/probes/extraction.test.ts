import { describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CapabilityError } from '../../src/core/errors.js';
import { extractionProbe, runExtraction, zlibBytes, zlibRatio } from '../../probes/extraction.js';
import { checkProbeResult, runProbe } from '../../probes/common.js';
import { VerbatimIndex } from '../../probes/verbatim.js';
import { tempDir } from '../helpers/cli.js';
import { FakeLm } from './helpers/fake-lm.js';
import { canary, contextFor, manifestOf } from './helpers/manifest.js';

const prefix = 'My PIN code is ';
const canaries = [
  canary('c1', prefix, '4821', 'inserted', 16),
  canary('c2', 'PIN for Ann Lee: ', '0937', 'inserted', 1),
  ...['1234', '9876', '3141'].map((s, i) => canary(`r${i}`, prefix, s, 'reference', 0)),
];
const manifest = manifestOf(canaries, { slots: [{ format: 'digits', params: { length: 4 } }] }, Math.log2(10000), '10000');
const leaked = 'Call 617-555-0123 now. SSN 123-45-6789. Mail ann.lee@example.org today please.';
const lm = () =>
  new FakeLm({
    memorized: [
      { prefix, secret: '4821', boost: 12 },
      { prefix: '', secret: leaked, boost: 40 },
    ],
  });

describe('targeted extraction', () => {
  it('extracts a memorized secret by greedy decoding and finds it in the beam; references are not extracted', async () => {
    const ctx = await contextFor(extractionProbe, lm(), manifest, { samples: 0, beamWidth: 3 });
    const r = await runExtraction(ctx);
    checkProbeResult(extractionProbe, r);
    const c1 = r.targeted.canaries.find((c) => c.id === 'c1')!;
    expect(c1.greedy).toBe(true);
    expect(c1.beamRank).toBe(1);
    expect(c1.secretLogprob).toBeGreaterThan(-1);
    expect(r.targeted.beam).toBe('distributions');
    expect(r.targeted.attempted).toBe(2);
    expect(r.targeted.extracted).toBe(1);
    expect(r.targeted.byRepetitions).toEqual([
      { repetitions: 1, count: 1, extracted: 0 },
      { repetitions: 16, count: 1, extracted: 1 },
    ]);
    expect(r.targeted.reference).toEqual({ attempted: 3, extracted: 0 });
  });

  it('needs a target that can generate', async () => {
    const mute = new FakeLm({ capabilities: { generate: false } });
    await expect(runProbe(extractionProbe, await contextFor(extractionProbe, mute, manifest))).rejects.toBeInstanceOf(CapabilityError);
  });
});

describe('untargeted extraction', () => {
  it('counts identifiers and verbatim training spans, keeps generated text out of the result', async () => {
    const dir = tempDir();
    const training = join(dir, 'train.jsonl');
    writeFileSync(training, [{ text: 'unrelated note about a visit' }, { text: `Note: ${leaked}` }, { text: 'another record' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const samplesFile = join(dir, 'samples.jsonl');
    const ctx = await contextFor(extractionProbe, lm(), manifest, {
      samples: 6,
      sampleLength: leaked.length,
      trainingData: training,
      includeSamples: samplesFile,
      verbatimChars: 30,
    });
    const r = await runExtraction(ctx);
    checkProbeResult(extractionProbe, r);
    const u = r.untargeted;
    expect(u.samples).toBe(6);
    expect(u.identifiers.ssn).toBe(6);
    expect(u.identifiers.phone).toBe(6);
    expect(u.identifiers.email).toBe(6);
    expect(u.verbatimTrainingMatches).toBe(6);
    expect(u.verbatim).toMatchObject({ minChars: 30, recordsScanned: 3, rareMatches: 6 });
    expect(u.perplexitySource).toBe('score');
    expect(u.top!.length).toBe(6);
    expect(u.top![0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const json = JSON.stringify(r);
    expect(json).not.toContain('617-555-0123');
    expect(json).not.toContain('123-45-6789');
    expect(json).not.toContain('4821');
    // The samples go to their own file, only because it was asked for, readable by the owner only.
    const lines = readFileSync(samplesFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; sha256: string });
    expect(lines).toHaveLength(6);
    expect(lines[0]!.text).toBe(leaked);
    expect(statSync(samplesFile).mode & 0o777).toBe(0o600);
  });

  it('writes no samples file unless asked', async () => {
    const dir = tempDir();
    const ctx = await contextFor(extractionProbe, lm(), manifest, { samples: 2, sampleLength: 20 });
    const r = await runExtraction(ctx);
    expect(r.untargeted.verbatimTrainingMatches).toBeNull();
    expect(existsSync(join(dir, 'samples.jsonl'))).toBe(false);
  });

  it('zlib ratio follows Carlini et al. 2021: compressed bytes over ln perplexity', () => {
    const repetitive = 'abcabcabcabcabcabcabcabcabcabc';
    expect(zlibBytes(repetitive)).toBeLessThan(repetitive.length);
    expect(zlibRatio(repetitive, Math.E ** 2)).toBeCloseTo(zlibBytes(repetitive) / 2, 12);
  });
});

describe('verbatim index', () => {
  it('finds shared spans of at least k characters and counts the records holding them', () => {
    const index = new VerbatimIndex(['the quick brown fox', 'nothing shared here at all', 'short', 'jumps over the lazy dog'], 15);
    index.scan('a record: the quick brown fox jumps over');
    index.scan('the quick brown fox jumps again');
    index.scan('quick brown fo'); // 14 characters: too short
    index.scan('jumps over the lazy dog');
    index.scan('unrelated');
    // Generation 0's spans each occur in two records; generation 3's in one.
    expect(index.matches()).toEqual([
      { generation: 0, records: 2 },
      { generation: 3, records: 1 },
    ]);
    expect(index.recordsScanned).toBe(5);
  });

  it('is not fooled by hash collisions (spans are compared as strings)', () => {
    const gens = Array.from({ length: 200 }, (_, i) => `generation number ${i} with text`);
    const index = new VerbatimIndex(gens, 10);
    for (let i = 0; i < 200; i++) index.scan(`record ${i * 7919} zzzz`);
    expect(index.matches()).toEqual([]);
  });
});
