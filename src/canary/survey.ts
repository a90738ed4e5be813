/**
 * The input side of `canary insert`: the input's SHA-256, the search for canary secrets that
 * already occur in it and (splice mode) the output's SHA-256, the input with canary lines spliced
 * in. For large inputs the secret scan and the output digest run on a worker thread that reads
 * the file itself, while the copying thread digests the input from the chunks it copies: measured
 * on 200 MB of notes, the worker's half (scan ~110 ms + digest ~200 ms) and the copy's half (read,
 * split, write ~130 ms + digest ~200 ms) cost about the same, so two cores share the work evenly.
 * The copying thread only tells the worker where it spliced lines (a few hundred small messages),
 * never ships the data. Small inputs are surveyed inline, as a worker costs more to start.
 */
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors.js';
import { readChunks } from '../data/open.js';
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
   * The chunk the copy just read (in order; a threaded survey reads the file itself and only
   * takes the inserts), with the lines spliced in before chunk offsets (ascending, each in
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
export function preferThreadedSurvey(inputBytes: number): boolean {
  const cores = availableParallelism();
  return inputBytes >= threadedSurveyBytes && cores >= 2 && coreFree(cores, runnableNow(), loadavg()[0]!);
}

/**
 * Whether another core is idle. `running` is the number of runnable tasks at this instant, this
 * thread included (Linux); the 1-minute load average is only the fallback: it lags by a minute,
 * so right after a busy stretch (often this process's own) it reports a busy machine that is idle.
 */
export function coreFree(cores: number, running: number | undefined, load1: number): boolean {
  return running !== undefined ? running - 1 <= cores - 2 : load1 < cores - 0.5;
}

/** Runnable tasks system-wide right now, from /proc/loadavg ("0.10 0.20 0.30 2/345 678"). */
function runnableNow(): number | undefined {
  try {
    const m = /^\S+ \S+ \S+ (\d+)\//.exec(readFileSync('/proc/loadavg', 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
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
 * The worker's program, evaluated from a string with the scanner class's own source spliced in,
 * so it runs the same from the compiled CLI and from the TypeScript tests. Node may evaluate it
 * as CommonJS or as an ES module (it follows the package's "type": "module"), so it loads its
 * modules with dynamic import(), which both accept, and never with require().
 */
function workerSource(): string {
  return `
const MultiPatternScanner = (${MultiPatternScanner.toString()});
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { createReadStream } = await import('node:fs');
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
  try {
    // Splice mode: the caller digests the input from the chunks it copies (balancing the threads).
    const hash = workerData.splice ? undefined : createHash('sha256');
    const out = workerData.splice ? createHash('sha256') : undefined;
    const scanner = workerData.patterns ? new MultiPatternScanner(workerData.patterns) : undefined;
    let base = 0;
    for await (const chunk of createReadStream(workerData.path, { highWaterMark: 1 << 20 })) {
      if (hash) hash.update(chunk);
      const match = scanner && scanner.feed(chunk);
      if (match) return parentPort.postMessage({ match });
      const end = base + chunk.length;
      if (out) {
        await until(end);
        let pos = 0;
        for (; next < inserts.length && inserts[next][0] <= end; next++) {
          const at = inserts[next][0] - base;
          if (at > pos) out.update(chunk.subarray(pos, at));
          out.update(inserts[next][1]);
          pos = at;
        }
        if (pos < chunk.length) out.update(chunk.subarray(pos));
      }
      base = end;
    }
    if (out) {
      await until(Infinity);
      for (; next < inserts.length; next++) out.update(inserts[next][1]);
    }
    parentPort.postMessage({ sha256: hash ? hash.digest('hex') : '', bytes: base, outputSha256: out && out.digest('hex') });
  } catch (e) {
    parentPort.postMessage({ error: (e && e.code) || String((e && e.message) || e) });
  }
})();
`;
}

class ThreadSurvey implements InputSurvey {
  private readonly worker: Worker;
  private readonly done: Promise<SurveyResult>;
  private readonly splice: boolean;
  private readonly hash: Hash | undefined;
  /** Stream offset of the next pushed chunk. */
  private base = 0;
  match: SecretMatch | undefined;

  constructor(path: string, patterns: string[] | undefined, splice: boolean) {
    this.splice = splice;
    this.hash = splice ? createHash('sha256') : undefined;
    this.worker = new Worker(workerSource(), { eval: true, workerData: { path, patterns: patterns?.length ? patterns : undefined, splice } });
    this.done = new Promise<SurveyResult>((resolve, reject) => {
      this.worker.on('message', (m: { sha256?: string; match?: SecretMatch; error?: string; bytes?: number; outputSha256?: string }) => {
        if (m.error) reject(new InputError(`${path}: cannot read (${m.error})`));
        else if (m.match) {
          this.match = m.match;
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
    this.hash!.update(chunk);
    const base = this.base;
    this.base += chunk.length;
    // The lines are copied into the message (a few hundred short lines in all); the data is not.
    const absolute = inserts?.length ? inserts.map(([at, line]) => [base + at, line]) : undefined;
    this.worker.postMessage({ upTo: this.base, ...(absolute ? { inserts: absolute } : {}) });
  }

  async result(): Promise<SurveyResult> {
    try {
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
