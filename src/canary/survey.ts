/**
 * The byte side of `canary insert`: the input's SHA-256, the search for canary secrets that
 * already occur in it and (with an output) the output itself, the input with canary lines spliced
 * in, written and hashed (spliced-output.ts). The copying thread reads and splits the input and
 * pushes each chunk here with the lines to splice in.
 *
 * For large inputs a worker thread reads the file itself and writes and hashes the output from the
 * splice positions the copying thread reports (a few hundred small messages; the data is never
 * shipped), while the copying thread hashes the input. The secret scan is shared: each 1 MiB chunk
 * is searched by whichever thread gets to it first (one shared counter), so the thread that is
 * ahead takes more of it and neither waits for the other. Measured on 200 MB of notes (idle
 * 2-core machine): each digest ~160 ms, the scan ~70 ms, a read ~45-70 ms, the output write
 * ~70 ms, the split ~15 ms, the worker's start-up ~40-60 ms; the two threads end within ~10 ms
 * of each other (~300-340 ms). The worker's share was first the whole scan and the output digest:
 * the copying thread then had read + split + write + input digest, the longer half (its loop
 * ~410 ms vs ~350 ms with the write on the worker). Small inputs are surveyed inline, as a worker
 * costs more to start.
 */
import { createHash, type Hash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors.js';
import { fillChunk, readChunkBytes, readChunks, readChunksSync } from '../data/open.js';
import { SplicedOutput, splicePieces, writeAll, type Splice } from '../data/spliced-output.js';
import { MultiPatternScanner, type SecretMatch } from './scan.js';

export interface SurveyResult {
  sha256: string;
  /** The first canary secret found in the input, if any (then `sha256` is empty). */
  match?: SecretMatch;
  /** With an output: the SHA-256 of the input with the pushed lines spliced in, as written. */
  outputSha256?: string;
  /** Input bytes digested (the caller checks it against what it copied). */
  bytes?: number;
}

export interface InputSurvey {
  /**
   * The chunk the copy just read (in order, as readChunksSync reads them: a threaded survey reads
   * the file itself in the same chunks, writes the output from the inserts and shares the secret
   * scan chunk by chunk), with the lines spliced in before chunk offsets (ascending, each in
   * 1..chunk.length; after the last chunk, an empty chunk with the lines appended at the end) and
   * the ranges left out (a splice with a skip, within the chunk: its offset may be 0).
   * Only with an output; a survey without one reads the file itself.
   */
  push(chunk: Buffer, inserts?: Splice[]): void;
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

/** Where the spliced output goes: an open file (written at its position) and its name for errors. */
export interface SurveyOutput {
  fd: number;
  path: string;
}

const writeError = (path: string, code: string) => new InputError(`${path}: cannot write (${code})`);
const errorCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String((e as Error).message ?? e);

class InlineSurvey implements InputSurvey {
  private readonly hash: Hash = createHash('sha256');
  private readonly scanner: MultiPatternScanner | undefined;
  private readonly output: SplicedOutput | undefined;
  private bytes = 0;
  match: SecretMatch | undefined;

  constructor(
    private readonly path: string,
    patterns: string[] | undefined,
    private readonly out: SurveyOutput | undefined,
  ) {
    this.scanner = patterns?.length ? new MultiPatternScanner(patterns) : undefined;
    this.output = out ? new SplicedOutput(out.fd) : undefined;
  }

  push(chunk: Buffer, inserts?: Splice[]): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    try {
      this.output?.push(chunk, inserts);
    } catch (e) {
      throw writeError(this.out!.path, errorCode(e));
    }
    this.match ??= this.scanner?.feed(chunk);
  }

  async result(): Promise<SurveyResult> {
    if (!this.output) {
      for (const chunk of readChunksSync(this.path)) {
        this.push(chunk);
        if (this.match) break;
      }
    }
    if (this.match) return { sha256: '', match: this.match };
    return { sha256: this.hash.digest('hex'), bytes: this.bytes, ...(this.output ? { outputSha256: this.output.hex() } : {}) };
  }

  async abort(): Promise<void> {}
}

/**
 * The worker's program, evaluated from a string with the scanner's, the chunk reader's and the
 * output's functions spliced in from their own source, so it runs the same from the compiled CLI
 * and from the TypeScript tests. Node may evaluate it as CommonJS or as an ES module (it follows
 * the package's "type": "module"), so it takes Node's modules with process.getBuiltinModule(),
 * which both accept (require() does not exist in an ES module; import() is async and a few ms slower).
 */
function workerSource(): string {
  return `
const MultiPatternScanner = (${MultiPatternScanner.toString()});
const fillChunk = (${fillChunk.toString()});
const splicePieces = (${splicePieces.toString()});
const writeAll = (${writeAll.toString()});
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const { openSync, readSync, closeSync, writevSync } = process.getBuiltinModule('node:fs');
const { createHash } = process.getBuiltinModule('node:crypto');
// With an output: the main thread reports how far it has copied (upTo) and the lines it spliced
// in before stream offsets up to there; a chunk is written and hashed into the output only once
// every insert up to its end is known.
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
const output = (chunk, base, end) => {
  const here = [];
  // A splice at the chunk's end belongs to it, unless it skips bytes: those are the next chunk's.
  for (; next < inserts.length && (inserts[next][0] < end || (inserts[next][0] === end && !inserts[next][2])); next++) {
    here.push([inserts[next][0] - base, inserts[next][1], inserts[next][2]]);
  }
  const pieces = splicePieces(chunk, here);
  for (const piece of pieces) out.update(piece);
  try {
    writeAll(writevSync, workerData.outFd, pieces);
  } catch (e) {
    throw Object.assign(e, { writing: true });
  }
};
const claim = new Int32Array(workerData.claim);
// With an output, the caller hashes the input from the chunks it copies (balancing the threads).
const hash = workerData.outFd === undefined ? createHash('sha256') : undefined;
const out = workerData.outFd === undefined ? undefined : createHash('sha256');
(async () => {
  let fd;
  try {
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
      if (out) {
        await until(base + n);
        output(chunk, base, base + n);
      }
      base += n;
      if (n < buf.length) break;
    }
    if (out) {
      await until(Infinity);
      output(new Uint8Array(0), base, Infinity);
    }
    parentPort.postMessage({ sha256: hash ? hash.digest('hex') : '', bytes: base, outputSha256: out && out.digest('hex') });
  } catch (e) {
    parentPort.postMessage({ error: (e && e.code) || String((e && e.message) || e), writing: Boolean(e && e.writing) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
})();
`;
}

class ThreadSurvey implements InputSurvey {
  private readonly worker: Worker;
  private readonly done: Promise<SurveyResult>;
  /** With an output: the input digest, from the pushed chunks. */
  private readonly hash: Hash | undefined;
  /** The next chunk to search, shared with the worker: whichever thread takes it searches it. */
  private readonly claim = new Int32Array(new SharedArrayBuffer(4));
  private readonly scanner: MultiPatternScanner | undefined;
  /** Stream offset of the next pushed chunk. */
  private base = 0;
  match: SecretMatch | undefined;

  constructor(
    path: string,
    patterns: string[] | undefined,
    private readonly out: SurveyOutput | undefined,
  ) {
    this.hash = out ? createHash('sha256') : undefined;
    this.scanner = out && patterns?.length ? new MultiPatternScanner(patterns) : undefined;
    this.worker = new Worker(workerSource(), {
      eval: true,
      workerData: { path, patterns: patterns?.length ? patterns : undefined, outFd: out?.fd, claim: this.claim.buffer, chunkBytes: readChunkBytes },
    });
    this.done = new Promise<SurveyResult>((resolve, reject) => {
      this.worker.on('message', (m: { sha256?: string; match?: SecretMatch; error?: string; writing?: boolean; bytes?: number; outputSha256?: string }) => {
        if (m.error) reject(m.writing ? writeError(out!.path, m.error) : new InputError(`${path}: cannot read (${m.error})`));
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

  push(chunk: Buffer, inserts?: Splice[]): void {
    if (!this.out) throw new Error('ThreadSurvey.push: no output (the worker reads the file itself)');
    const base = this.base;
    this.base += chunk.length;
    // First the splice positions, so the worker is never kept waiting; the lines are copied into
    // the message (a few hundred short lines in all), the data is not.
    const absolute = inserts?.length ? inserts.map(([at, line, skip]) => [base + at, line, skip]) : undefined;
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
      if (this.out) this.worker.postMessage({ end: true });
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
 * `output`: also write the output, the input with the lines given to `push` spliced in, to
 * `output.fd` and hash it; the input digest is then taken from the pushed chunks on the calling
 * thread. Without an output the survey reads the file itself (`result()`).
 */
export function surveyInput(path: string, patterns: string[] | undefined, threaded: boolean, output?: SurveyOutput): InputSurvey {
  return threaded ? new ThreadSurvey(path, patterns, output) : new InlineSurvey(path, patterns, output);
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
