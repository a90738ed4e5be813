/**
 * The input side of `canary insert`: the input's SHA-256, the search for canary secrets that
 * already occur in it and (splice mode) the output's SHA-256, the input with canary lines spliced
 * in. For large inputs a worker thread reads the file itself and digests the output, from the
 * splice positions the copying thread reports (a few hundred small messages; the data is never
 * shipped), while the copying thread digests the input from the chunks it copies. The secret scan
 * is shared: each 1 MiB chunk is searched by whichever thread gets to it first (one shared
 * counter), so the thread that is ahead takes more of it and neither waits for the other.
 * Measured on 200 MB of notes (idle 2-core machine): copy thread read + split + write ~150 ms,
 * each digest ~170 ms, the scan ~100 ms, the worker's read ~40 ms and its start-up ~50 ms; with
 * the whole scan on the worker, the copy thread finished ~100-200 ms before it. Small inputs are
 * surveyed inline, as a worker costs more to start.
 */
import { createHash, type Hash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors.js';
import { fillChunk, readChunkBytes, readChunks } from '../data/open.js';
import { SplicedDigest } from '../data/spliced-digest.js';
import { MultiPatternScanner, type SecretMatch } from './scan.js';

export interface SurveyResult {
  sha256: string;
  /** The first canary secret found in the input, if any (then `sha256` is empty). */
  match?: SecretMatch;
  /** With `splice`: the SHA-256 of the input with the pushed lines spliced in. */
  outputSha256?: string;
  /** Input bytes digested (the caller checks it against what it copied). */
  bytes?: number;
}

export interface InputSurvey {
  /**
   * The chunk the copy just read (in order, as readChunksSync reads them: a threaded survey reads
   * the file itself in the same chunks, digests the output from the inserts and shares the secret
   * scan chunk by chunk), with the lines spliced in before chunk offsets (ascending, each in
   * 1..chunk.length; after the last chunk, an empty chunk with the lines appended at the end).
   */
  push(chunk: Buffer, inserts?: [number, Uint8Array][]): void;
  /** A secret found so far: the caller stops early. */
  readonly match: SecretMatch | undefined;
  result(): Promise<SurveyResult>;
  abort(): Promise<void>;
}

/** Inputs of this size and more are surveyed on a worker thread when a core is free. */
export const threadedSurveyBytes = 32 << 20;

/**
 * Whether a worker thread pays off: a large input, and a second core that is not busy now (on a
 * saturated machine the worker's start-up and its own read of the file only add CPU; measured:
 * the same wall time as inline for ~20% more CPU).
 */
export async function preferThreadedSurvey(inputBytes: number): Promise<boolean> {
  const cores = availableParallelism();
  if (inputBytes < threadedSurveyBytes || cores < 2) return false;
  // A few looks 1 ms apart: the kernel's writeback (often of this process's last output) keeps a
  // task runnable for a moment; an idle machine showed one in 4 of 6 single looks (measured).
  for (let look = 0; look < 5; look++) {
    const others = othersRunnable();
    if (coreFree(cores, others, loadavg()[0]!)) return true;
    if (others === undefined) return false;
    await sleep(1);
  }
  return false;
}

/**
 * Whether another core is idle. `others` is the number of runnable tasks of other processes at
 * this instant (Linux); the 1-minute load average is only the fallback: it lags by a minute, so
 * right after a busy stretch (often this process's own) it reports a busy machine that is idle.
 */
export function coreFree(cores: number, others: number | undefined, load1: number): boolean {
  return others !== undefined ? others <= cores - 2 : load1 < cores - 0.5;
}

/**
 * Runnable tasks of other processes right now: all of them (/proc/loadavg, "0.10 0.20 0.30
 * 2/345 678") less this process's own threads, which stay runnable for ~20 ms after it wrote a
 * large file (libuv's, V8's; measured).
 */
function othersRunnable(): number | undefined {
  try {
    const m = /^\S+ \S+ \S+ (\d+)\//.exec(readFileSync('/proc/loadavg', 'latin1'));
    return m ? Math.max(0, Number(m[1]) - ownRunnable()) : undefined;
  } catch {
    return undefined;
  }
}

/** This process's threads that are running or runnable ("R" in /proc/self/task/<tid>/stat). */
function ownRunnable(): number {
  let n = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
      if (stat[stat.lastIndexOf(')') + 2] === 'R') n++;
    } catch {
      // The thread exited since the listing.
    }
  }
  return n;
}

class InlineSurvey implements InputSurvey {
  private readonly hash: Hash = createHash('sha256');
  private readonly scanner: MultiPatternScanner | undefined;
  private readonly output: SplicedDigest | undefined;
  private bytes = 0;
  match: SecretMatch | undefined;

  constructor(patterns: string[] | undefined, splice: boolean) {
    this.scanner = patterns?.length ? new MultiPatternScanner(patterns) : undefined;
    this.output = splice ? new SplicedDigest() : undefined;
  }

  push(chunk: Buffer, inserts?: [number, Uint8Array][]): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.output?.push(chunk, inserts);
    this.match ??= this.scanner?.feed(chunk);
  }

  async result(): Promise<SurveyResult> {
    if (this.match) return { sha256: '', match: this.match };
    return { sha256: this.hash.digest('hex'), bytes: this.bytes, ...(this.output ? { outputSha256: this.output.hex() } : {}) };
  }

  async abort(): Promise<void> {}
}

/**
 * The worker's program, evaluated from a string with the scanner class's and the chunk reader's
 * own source spliced in, so it runs the same from the compiled CLI and from the TypeScript tests.
 * Node may evaluate it as CommonJS or as an ES module (it follows the package's "type": "module"),
 * so it loads its modules with dynamic import(), which both accept, and never with require().
 */
function workerSource(): string {
  return `
const MultiPatternScanner = (${MultiPatternScanner.toString()});
const fillChunk = (${fillChunk.toString()});
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { openSync, readSync, closeSync } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  // Splice mode: the main thread reports how far it has copied (upTo) and the lines it spliced
  // in before stream offsets up to there; a chunk is digested into the output only once every
  // insert up to its end is known.
  const inserts = [];
  let next = 0;
  let upTo = 0;
  let ended = false;
  let wake;
  parentPort.on('message', (m) => {
    if (m.inserts) for (const x of m.inserts) inserts.push(x);
    if (m.upTo !== undefined) upTo = m.upTo;
    if (m.end) ended = true;
    if (wake) { const w = wake; wake = undefined; w(); }
  });
  const until = async (offset) => {
    while (!ended && upTo < offset) await new Promise((ok) => (wake = ok));
  };
  const claim = new Int32Array(workerData.claim);
  let fd;
  try {
    // Splice mode: the caller digests the input from the chunks it copies (balancing the threads).
    const hash = workerData.splice ? undefined : createHash('sha256');
    const out = workerData.splice ? createHash('sha256') : undefined;
    const scanner = workerData.patterns ? new MultiPatternScanner(workerData.patterns) : undefined;
    fd = openSync(workerData.path, 'r');
    const buf = Buffer.allocUnsafe(workerData.chunkBytes);
    let base = 0;
    for (let k = 0; ; k++) {
      const n = fillChunk(readSync, fd, buf, base);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      if (hash) hash.update(chunk);
      // Chunk k is searched here unless the copying thread got to it first.
      const match = scanner && scanner.feed(chunk, Atomics.compareExchange(claim, 0, k, k + 1) === k);
      if (match) return parentPort.postMessage({ match });
      const end = base + n;
      if (out) {
        await until(end);
        let pos = 0;
        for (; next < inserts.length && inserts[next][0] <= end; next++) {
          const at = inserts[next][0] - base;
          if (at > pos) out.update(chunk.subarray(pos, at));
          out.update(inserts[next][1]);
          pos = at;
        }
        if (pos < n) out.update(chunk.subarray(pos));
      }
      base = end;
      if (n < buf.length) break;
    }
    if (out) {
      await until(Infinity);
      for (; next < inserts.length; next++) out.update(inserts[next][1]);
    }
    parentPort.postMessage({ sha256: hash ? hash.digest('hex') : '', bytes: base, outputSha256: out && out.digest('hex') });
  } catch (e) {
    parentPort.postMessage({ error: (e && e.code) || String((e && e.message) || e) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
})();
`;
}

class ThreadSurvey implements InputSurvey {
  private readonly worker: Worker;
  private readonly done: Promise<SurveyResult>;
  private readonly splice: boolean;
  private readonly hash: Hash | undefined;
  /** The next chunk to search, shared with the worker: whichever thread takes it searches it. */
  private readonly claim = new Int32Array(new SharedArrayBuffer(4));
  private readonly scanner: MultiPatternScanner | undefined;
  /** Stream offset of the next pushed chunk. */
  private base = 0;
  match: SecretMatch | undefined;

  constructor(path: string, patterns: string[] | undefined, splice: boolean) {
    this.splice = splice;
    this.hash = splice ? createHash('sha256') : undefined;
    this.scanner = splice && patterns?.length ? new MultiPatternScanner(patterns) : undefined;
    this.worker = new Worker(workerSource(), {
      eval: true,
      workerData: { path, patterns: patterns?.length ? patterns : undefined, splice, claim: this.claim.buffer, chunkBytes: readChunkBytes },
    });
    this.done = new Promise<SurveyResult>((resolve, reject) => {
      this.worker.on('message', (m: { sha256?: string; match?: SecretMatch; error?: string; bytes?: number; outputSha256?: string }) => {
        if (m.error) reject(new InputError(`${path}: cannot read (${m.error})`));
        else if (m.match) {
          this.match ??= m.match;
          resolve({ sha256: '', match: m.match });
        } else resolve({ sha256: this.hash ? this.hash.digest('hex') : m.sha256!, bytes: m.bytes!, ...(m.outputSha256 ? { outputSha256: m.outputSha256 } : {}) });
      });
      this.worker.on('error', reject);
      this.worker.on('exit', () => reject(new Error('the input survey worker exited without a result')));
    });
    // Settled through result(); an abort must not surface as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  push(chunk: Buffer, inserts?: [number, Uint8Array][]): void {
    if (!this.splice) return;
    const base = this.base;
    this.base += chunk.length;
    // First the splice positions, so the worker is never kept waiting; the lines are copied into
    // the message (a few hundred short lines in all), the data is not.
    const absolute = inserts?.length ? inserts.map(([at, line]) => [base + at, line]) : undefined;
    this.worker.postMessage({ upTo: this.base, ...(absolute ? { inserts: absolute } : {}) });
    if (chunk.length === 0) return;
    if (base % readChunkBytes !== 0 || chunk.length > readChunkBytes) throw new Error('ThreadSurvey.push: not the chunks of readChunksSync');
    this.hash!.update(chunk);
    if (this.scanner && !this.match) {
      const k = base / readChunkBytes;
      this.match = this.scanner.feed(chunk, Atomics.compareExchange(this.claim, 0, k, k + 1) === k);
    }
  }

  async result(): Promise<SurveyResult> {
    try {
      if (this.match) return { sha256: '', match: this.match };
      if (this.splice) this.worker.postMessage({ end: true });
      return await this.done;
    } finally {
      await this.worker.terminate();
    }
  }

  async abort(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * `splice`: also digest the output, the input with the lines given to `push` spliced in; the
 * input digest is then taken from the pushed chunks on the calling thread.
 */
export function surveyInput(path: string, patterns: string[] | undefined, threaded: boolean, splice = false): InputSurvey {
  return threaded ? new ThreadSurvey(path, patterns, splice) : new InlineSurvey(patterns, splice);
}

/**
 * The first canary secret the scan meets in a file, for the refusal message: a threaded survey
 * stops at the first one either thread meets, which depends on their timing when there are several.
 */
export async function firstSecret(path: string, patterns: string[]): Promise<SecretMatch | undefined> {
  const scanner = new MultiPatternScanner(patterns);
  for await (const chunk of readChunks(path)) {
    const match = scanner.feed(chunk);
    if (match) return match;
  }
  return undefined;
}

/** The 1-based line holding byte `offset` of a file (for the one error message that needs it). */
export async function lineAtOffset(path: string, offset: number): Promise<number> {
  let line = 1;
  let base = 0;
  for await (const chunk of readChunks(path)) {
    const end = Math.min(chunk.length, offset - base);
    for (let i = chunk.indexOf(10); i !== -1 && i < end; i = chunk.indexOf(10, i + 1)) line++;
    base += chunk.length;
    if (base >= offset) break;
  }
  return line;
}
