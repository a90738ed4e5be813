import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { SplicedOutput, splicePieces, writeAll } from '../../src/data/spliced-output.js';
import { surveyInput } from '../../src/canary/survey.js';
import { readChunksSync } from '../../src/data/open.js';
import { tempDir } from '../helpers/cli.js';

const b = (s: string) => Buffer.from(s);

describe('spliced output', () => {
  const dir = tempDir();

  it('cuts a chunk at the insert offsets, lines in order, no empty pieces', () => {
    const text = (pieces: Uint8Array[]) => pieces.map((p) => Buffer.from(p).toString()).join('|');
    expect(text(splicePieces(b('ab\ncd\n'), [[3, b('X\n')], [6, b('Y\n')], [6, b('Z\n')]]))).toBe('ab\n|X\n|cd\n|Y\n|Z\n');
    expect(text(splicePieces(b(''), [[0, b('T\n')]]))).toBe('T\n');
    expect(splicePieces(b('abc'), []).map((p) => p.length)).toEqual([3]);
  });

  it('writeAll finishes short writes, whatever the write returns', () => {
    const path = join(dir, 'short.txt');
    const fd = openSync(path, 'w');
    // At most 3 bytes a call, as a full pipe or a signal could make writev return.
    const stingy = ((f: number, bufs: Uint8Array[]) => {
      const first = bufs.find((x) => x.length > 0)!;
      return writevSync(f, [first.subarray(0, 3)]);
    }) as typeof writevSync;
    writeAll(stingy, fd, [b('hello '), b('spliced'), b(' world\n')]);
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe('hello spliced world\n');
  });

  it('the digest is of the bytes written', () => {
    const path = join(dir, 'out.txt');
    const fd = openSync(path, 'w');
    const out = new SplicedOutput(fd);
    out.push(b('one\ntwo\n'), [[4, b('canary\n')]]);
    out.push(b('three\n'));
    out.push(b(''), [[0, b('last\n')]]);
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe('one\ncanary\ntwo\nthree\nlast\n');
    expect(out.hex()).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
  });

  it.skipIf(!existsSync('/dev/full'))('a failing write is an input error naming the output, on either thread', async () => {
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, '{"text":"a"}\n'.repeat(1000));
    for (const threaded of [false, true]) {
      const fd = openSync('/dev/full', 'w');
      try {
        const survey = surveyInput(input, ['123-45-6789'], threaded, { fd, path: 'full.jsonl' });
        const run = async () => {
          for (const chunk of readChunksSync(input)) survey.push(chunk, []);
          return survey.result();
        };
        await expect(run()).rejects.toThrow(/full.jsonl: cannot write \(ENOSPC\)/);
        await survey.abort();
      } finally {
        closeSync(fd);
      }
    }
  });
});
