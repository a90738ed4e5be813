/**
 * The input side of `canary insert`: the input's SHA-256 and the search for canary secrets that
 * already occur in it. For large inputs this runs on a worker thread that reads the file itself,
 * beside the main thread's copy: the two halves cost about the same CPU (digest + secret scan
 * here; splitting, writing and the output digest there), so two cores do them at once. Small
 * inputs are surveyed inline, from the chunks the copy reads, as a worker costs more to start.
 */
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors.js';
import { readChunks } from '../data/open.js';
import { MultiPatternScanner, type SecretMatch } from './scan.js';

export interface SurveyResult {
  sha256: string;
  /** The first canary secret found in the input, if any (then `sha256` is empty). */
  match?: SecretMatch;
}

export interface InputSurvey {
  /** Inline mode: the chunk the copy just read (in order). A threaded survey reads for itself. */
  push(chunk: Buffer): void;
  /** A secret found so far: the caller stops early. */
  readonly match: SecretMatch | undefined;
  result(): Promise<SurveyResult>;
  abort(): Promise<void>;
}

/** Inputs of this size and more are surveyed on a worker thread when a core is free. */
export const threadedSurveyBytes = 32 << 20;

/**
 * Whether a worker thread pays off: a large input, and a second core that is not already busy
 * (on a saturated machine the worker's own read and start-up only add CPU; measured).
 */
export function preferThreadedSurvey(inputBytes: number): boolean {
  const cores = availableParallelism();
  return inputBytes >= threadedSurveyBytes && cores >= 2 && loadavg()[0]! < cores - 0.5;
}

class InlineSurvey implements InputSurvey {
  private readonly hash: Hash = createHash('sha256');
  private readonly scanner: MultiPatternScanner | undefined;
  match: SecretMatch | undefined;

  constructor(patterns: string[] | undefined) {
    this.scanner = patterns?.length ? new MultiPatternScanner(patterns) : undefined;
  }

  push(chunk: Buffer): void {
    this.hash.update(chunk);
    this.match ??= this.scanner?.feed(chunk);
  }

  async result(): Promise<SurveyResult> {
    return this.match ? { sha256: '', match: this.match } : { sha256: this.hash.digest('hex') };
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
  try {
    const hash = createHash('sha256');
    const scanner = workerData.patterns ? new MultiPatternScanner(workerData.patterns) : undefined;
    for await (const chunk of createReadStream(workerData.path, { highWaterMark: 1 << 20 })) {
      hash.update(chunk);
      const match = scanner && scanner.feed(chunk);
      if (match) return parentPort.postMessage({ match });
    }
    parentPort.postMessage({ sha256: hash.digest('hex') });
  } catch (e) {
    parentPort.postMessage({ error: (e && e.code) || String((e && e.message) || e) });
  }
})();
`;
}

class ThreadSurvey implements InputSurvey {
  private readonly worker: Worker;
  private readonly done: Promise<SurveyResult>;
  match: SecretMatch | undefined;

  constructor(path: string, patterns: string[] | undefined) {
    this.worker = new Worker(workerSource(), { eval: true, workerData: { path, patterns: patterns?.length ? patterns : undefined } });
    this.done = new Promise<SurveyResult>((resolve, reject) => {
      this.worker.on('message', (m: { sha256?: string; match?: SecretMatch; error?: string }) => {
        if (m.error) reject(new InputError(`${path}: cannot read (${m.error})`));
        else if (m.match) {
          this.match = m.match;
          resolve({ sha256: '', match: m.match });
        } else resolve({ sha256: m.sha256! });
      });
      this.worker.on('error', reject);
      this.worker.on('exit', () => reject(new Error('the input survey worker exited without a result')));
    });
    // Settled through result(); an abort must not surface as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  push(): void {}

  async result(): Promise<SurveyResult> {
    try {
      return await this.done;
    } finally {
      await this.worker.terminate();
    }
  }

  async abort(): Promise<void> {
    await this.worker.terminate();
  }
}

export function surveyInput(path: string, patterns: string[] | undefined, threaded: boolean): InputSurvey {
  return threaded ? new ThreadSurvey(path, patterns) : new InlineSurvey(patterns);
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
