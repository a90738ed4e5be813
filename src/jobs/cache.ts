/**
 * The on-disk job cache: `<cacheDir>/<key>/` holds a finished job's outputs plus `job.json` (its
 * spec, key and summary). A job runs in a temporary sibling that is renamed into place only when
 * it succeeded, so a directory named by a key is always complete, and a rerun reuses it.
 *
 * Keys are sha256 of the canonical JSON spec with every `path` field removed: inputs are pinned
 * by the `sha256` beside their path, so moving a file keeps the cache valid and changing its
 * content invalidates it. The cache holds model weights and digests, never training records.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempPathFor } from '../core/atomic.js';
import { sha256Json } from '../core/hash.js';
import type { Json, JobSpec } from './types.js';

export const JOB_JSON = 'job.json';

function withoutPaths(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutPaths);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'path') out[k] = withoutPaths(v);
    return out;
  }
  return value;
}

/** The content key of a job: same inputs (by digest), config and seed give the same key. */
export function jobKey(spec: JobSpec): string {
  return sha256Json(withoutPaths(spec as unknown as Json));
}

const pendingTemps = new Set<string>();
let exitHookInstalled = false;

export class JobCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  dirFor(key: string): string {
    return join(this.dir, key);
  }

  /** The summary of a finished job, or undefined if it has not run (or was left incomplete). */
  lookup(key: string): { result: Json } | undefined {
    const path = join(this.dirFor(key), JOB_JSON);
    if (!existsSync(path)) return undefined;
    try {
      const record = JSON.parse(readFileSync(path, 'utf8')) as { key?: string; result?: Json };
      return record.key === key ? { result: record.result ?? null } : undefined;
    } catch {
      return undefined;
    }
  }

  /** A fresh empty directory for running a job; removed on process exit unless published. */
  createTemp(key: string): string {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const d of pendingTemps) rmSync(d, { recursive: true, force: true });
      });
    }
    mkdirSync(this.dir, { recursive: true });
    const temp = tempPathFor(join(this.dir, key.slice(0, 16)));
    mkdirSync(temp);
    pendingTemps.add(temp);
    return temp;
  }

  /** Writes job.json last and renames the temporary directory into place. */
  publish(temp: string, spec: JobSpec, key: string, result: Json, ms: number): string {
    writeFileSync(join(temp, JOB_JSON), JSON.stringify({ version: 1, key, spec, result, ms, finishedAt: new Date().toISOString() }, null, 2) + '\n');
    const final = this.dirFor(key);
    if (existsSync(final)) {
      // Another run finished the same job first: identical by construction, keep theirs.
      if (this.lookup(key)) {
        this.discard(temp);
        return final;
      }
      rmSync(final, { recursive: true, force: true });
    }
    renameSync(temp, final);
    pendingTemps.delete(temp);
    return final;
  }

  discard(temp: string): void {
    rmSync(temp, { recursive: true, force: true });
    pendingTemps.delete(temp);
  }
}
