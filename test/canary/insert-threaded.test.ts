/**
 * The two-thread `canary insert`: the worker digests the output from the file it reads itself
 * plus the splice positions the copying thread reports, in chunks that do not line up with the
 * copy's. The manifest's digests must be those of the bytes on disk, whatever the alignment, and
 * a planted secret must still refuse the run with nothing published.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { generateCanaries, insertCanaries, loadPack, type CanarySet } from '../../src/canary/index.js';
import { coreFree } from '../../src/canary/survey.js';
import { Rng } from '../../src/core/rng.js';
import { tempDir } from '../helpers/cli.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** About `bytes` of JSONL with dates and phone numbers (the SSN anchor "-" everywhere). */
function notes(bytes: number, trailingNewline: boolean): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = JSON.stringify({ id: i, text: `Visit 2023-12-${String(i % 28).padStart(2, '0')}; call (207) 234-${String(i % 9000).padStart(4, '0')}; 44-year-old seen.` });
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n') + (trailingNewline ? '\n' : '');
}

describe('canary insert on two threads', () => {
  const dir = tempDir();
  const ssn: CanarySet = generateCanaries(loadPack('ssn'), { count: 20, rng: new Rng('threads') });

  for (const trailingNewline of [true, false]) {
    it(`digests equal the files on disk across misaligned chunks (${trailingNewline ? 'with' : 'without'} a final newline)`, async () => {
      const data = join(dir, `multi-${trailingNewline}.jsonl`);
      writeFileSync(data, notes(5_500_000, trailingNewline));
      const manifests = [];
      for (const threadedSurvey of [true, false]) {
        const sub = join(dir, `multi-${trailingNewline}-${threadedSurvey}`);
        const m = await insertCanaries({ data, canaries: ssn, repetitions: [1, 4, 16], references: 2, out: join(sub, 'out.jsonl'), manifest: join(sub, 'manifest.json'), rng: new Rng(3), threadedSurvey });
        expect(m.input.sha256).toBe(sha(data));
        expect(m.output.sha256).toBe(sha(join(sub, 'out.jsonl')));
        manifests.push({ ...m, createdAt: '', output: { ...m.output, path: '' } });
      }
      expect(manifests[0]).toEqual(manifests[1]);
    });
  }

  it('a secret among date and phone near-misses, past the first chunks, refuses the run and publishes nothing', async () => {
    const secret = ssn.canaries[5]!.secret;
    const body = notes(3_000_000, true);
    // The secret right after a date-shaped run ("2023-12-0"), so the anchor check must not skip it.
    const data = join(dir, 'late-secret.jsonl');
    writeFileSync(data, body + JSON.stringify({ text: `seen 2023-12-0${secret} today` }) + '\n' + body);
    const line = body.split('\n').length;
    for (const threadedSurvey of [true, false]) {
      const sub = join(dir, `late-secret-${threadedSurvey}`);
      await expect(
        insertCanaries({ data, canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'out.jsonl'), manifest: join(sub, 'manifest.json'), rng: new Rng(1), threadedSurvey }),
      ).rejects.toThrow(new RegExp(`late-secret.jsonl line ${line}: already contains the secret of canary ${ssn.canaries[5]!.id}`));
      expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
    }
  });

  it('a secret across a 1 MiB read boundary refuses the run, on either thread', async () => {
    const secret = ssn.canaries[4]!.secret;
    const head = notes(1_040_000, true);
    const prefix = '{"text":"padding ';
    // The secret starts 5 bytes before the second chunk (the buffer is reused between reads).
    const pad = 'x'.repeat((1 << 20) - 5 - Buffer.byteLength(head) - prefix.length);
    const data = join(dir, 'boundary.jsonl');
    writeFileSync(data, head + prefix + pad + secret + ' end"}\n' + notes(2_000_000, true));
    expect(readFileSync(data).indexOf(secret)).toBe((1 << 20) - 5);
    for (const threadedSurvey of [true, false]) {
      const sub = join(dir, `boundary-${threadedSurvey}`);
      await expect(
        insertCanaries({ data, canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'out.jsonl'), manifest: join(sub, 'manifest.json'), rng: new Rng(1), threadedSurvey }),
      ).rejects.toThrow(new RegExp(`boundary.jsonl line ${head.split('\n').length}: already contains the secret of canary ${ssn.canaries[4]!.id}`));
      expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
    }
  });

  it('with secrets far apart, both threads scanning, the refusal names the first one, run after run', async () => {
    const [early, late] = [ssn.canaries[2]!, ssn.canaries[9]!];
    const body = notes(3_000_000, true);
    const data = join(dir, 'two-secrets.jsonl');
    // The late secret near the start of the copy's chunks and the early one in the first chunk:
    // whichever thread meets a secret first, the message is the same.
    writeFileSync(data, JSON.stringify({ text: `has ${early.secret}` }) + '\n' + body + JSON.stringify({ text: `has ${late.secret}` }) + '\n' + body);
    for (let run = 0; run < 3; run++) {
      const sub = join(dir, `two-secrets-${run}`);
      await expect(
        insertCanaries({ data, canaries: ssn, repetitions: [1], references: 2, out: join(sub, 'out.jsonl'), manifest: join(sub, 'manifest.json'), rng: new Rng(1), threadedSurvey: true }),
      ).rejects.toThrow(new RegExp(`two-secrets.jsonl line 1: already contains the secret of canary ${early.id}`));
      expect(existsSync(sub) ? readdirSync(sub) : []).toEqual([]);
    }
  });

  it('takes the second core when no other process is runnable now, whatever the lagging 1-minute load average says', () => {
    // No other process runnable on 2 cores: free, even right after a busy minute (load 2.4).
    expect(coreFree(2, 0, 2.4)).toBe(true);
    // Another process runnable: the worker would only compete with it.
    expect(coreFree(2, 1, 0.1)).toBe(false);
    expect(coreFree(4, 2, 3.9)).toBe(true);
    expect(coreFree(4, 3, 0.1)).toBe(false);
    // No instantaneous count (not Linux): the load average decides.
    expect(coreFree(2, undefined, 1.2)).toBe(true);
    expect(coreFree(2, undefined, 1.6)).toBe(false);
  });
});
