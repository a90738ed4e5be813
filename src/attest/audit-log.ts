/**
 * The hash-chained audit log: one canonical-JSON entry per line, each carrying the hash of the
 * previous entry (`prev`) and its own hash (`hash` = sha256 of the canonical entry without
 * `hash`). Editing, removing or reordering an entry breaks the chain at that line; truncating
 * the tail is only detectable against an outside anchor (the attestation records the head).
 *
 * Entries hold who, when, why, which command and digests of inputs and outputs: never PHI,
 * secrets, raw text, or flag values that could carry them.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, fstatSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname, userInfo } from 'node:os';
import { canonicalJson, sha256Hex } from '../core/hash.js';
import { InputError } from '../core/errors.js';
import { toolVersion } from '../core/version.js';

export const genesisHash = '0'.repeat(64);
/** Default log path, relative to the working directory (DESIGN.md: reports/ is the output root). */
export const defaultAuditLogPath = join('reports', 'audit-log.jsonl');
export const auditLogEnv = 'MEMAUDIT_AUDIT_LOG';
export const actorEnv = 'MEMAUDIT_ACTOR';

export interface DigestRef {
  /** A path or a short role name ("manifest", "model"), never content. */
  name: string;
  sha256: string;
}

/** What a command reports about its run. */
export interface AuditLogRecord {
  command: string;
  purpose?: string;
  inputs?: DigestRef[];
  outputs?: DigestRef[];
  exitCode?: number;
  /** The verdict of audit/gate runs. */
  verdict?: string;
  /** Overrides the actor (default: $MEMAUDIT_ACTOR, else user@host). */
  actor?: string;
  /** Overrides the time (tests). */
  time?: string;
}

export interface AuditLogEntry {
  version: 1;
  seq: number;
  time: string;
  actor: string;
  purpose: string | null;
  command: string;
  inputs: DigestRef[];
  outputs: DigestRef[];
  exitCode: number | null;
  verdict: string | null;
  toolVersion: string;
  prev: string;
  hash: string;
}

export interface AuditLogHead {
  seq: number;
  hash: string;
}

function defaultActor(env: NodeJS.ProcessEnv): string {
  if (env[actorEnv]) return env[actorEnv]!;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `${user}@${hostname()}`;
}

export function entryHash(entry: Omit<AuditLogEntry, 'hash'>): string {
  const { hash: _ignored, ...rest } = entry as AuditLogEntry;
  return sha256Hex(canonicalJson(rest));
}

/** The last complete line of a file, reading only its tail. */
function lastLine(path: string): string | null {
  if (!existsSync(path)) return null;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let chunk = 4096;
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buffer = Buffer.alloc(size - start);
      readSync(fd, buffer, 0, buffer.length, start);
      const text = buffer.toString('utf8').replace(/\n+$/, '');
      const cut = text.lastIndexOf('\n');
      if (cut >= 0 || start === 0) {
        const line = text.slice(cut + 1);
        return line === '' ? null : line;
      }
      chunk *= 4;
    }
  } finally {
    closeSync(fd);
  }
}

/** The head (last seq and hash) of a log, or the genesis head for a missing or empty log. */
export function auditLogHead(path: string): AuditLogHead {
  const line = lastLine(path);
  if (line === null) return { seq: 0, hash: genesisHash };
  let entry: Partial<AuditLogEntry>;
  try {
    entry = JSON.parse(line) as Partial<AuditLogEntry>;
  } catch {
    throw new InputError(`${path}: the last line is not valid JSON (run memaudit audit-log verify)`);
  }
  if (typeof entry.seq !== 'number' || typeof entry.hash !== 'string') {
    throw new InputError(`${path}: the last line is not an audit log entry (run memaudit audit-log verify)`);
  }
  return { seq: entry.seq, hash: entry.hash };
}

/** An exclusive lock file beside the log so concurrent runs cannot fork the chain. */
function withLock<T>(path: string, fn: () => T): T {
  const lock = `${path}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new InputError(`${lock}: cannot create the audit log lock (${(e as NodeJS.ErrnoException).code})`);
      try {
        // A lock older than 60 s is left over from a killed process.
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { force: true });
      } catch {
        // removed meanwhile
      }
      if (Date.now() > deadline) throw new InputError(`${lock}: the audit log is locked by another run (remove the lock file if no run is active)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Appends one entry to the log at `path` (created with its folder if missing) and returns it. */
export function appendAuditLog(record: AuditLogRecord, path: string = defaultAuditLogPath, env: NodeJS.ProcessEnv = process.env): AuditLogEntry {
  mkdirSync(dirname(path), { recursive: true });
  return withLock(path, () => {
    const head = auditLogHead(path);
    const body: Omit<AuditLogEntry, 'hash'> = {
      version: 1,
      seq: head.seq + 1,
      time: record.time ?? new Date().toISOString(),
      actor: record.actor ?? defaultActor(env),
      purpose: record.purpose ?? null,
      command: record.command,
      inputs: record.inputs ?? [],
      outputs: record.outputs ?? [],
      exitCode: record.exitCode ?? null,
      verdict: record.verdict ?? null,
      toolVersion,
      prev: head.hash,
    };
    const entry: AuditLogEntry = { ...body, hash: entryHash(body) };
    // One write of one line with O_APPEND: the entry appears whole or not at all in practice.
    const fd = openSync(path, 'a', 0o640);
    try {
      writeSync(fd, canonicalJson(entry) + '\n');
    } finally {
      closeSync(fd);
    }
    return entry;
  });
}

export interface AuditLogVerification {
  ok: boolean;
  entries: number;
  head: AuditLogHead;
  /** The first problem: 1-based line number and what is wrong. */
  problem?: { line: number; message: string };
}

/** Recomputes the chain. Any edited, removed, inserted or reordered entry is reported by line. */
export function verifyAuditLog(path: string): AuditLogVerification {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code})`}`);
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let head: AuditLogHead = { seq: 0, hash: genesisHash };
  const fail = (line: number, message: string): AuditLogVerification => ({ ok: false, entries: line - 1, head, problem: { line, message } });
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    let entry: AuditLogEntry;
    try {
      entry = JSON.parse(lines[i]!) as AuditLogEntry;
    } catch {
      return fail(n, 'not valid JSON');
    }
    if (entry === null || typeof entry !== 'object' || typeof entry.hash !== 'string') return fail(n, 'not an audit log entry');
    if (entry.prev !== head.hash) {
      return fail(n, `prev does not match the hash of the entry before it (an entry was removed, inserted or reordered)`);
    }
    if (entry.seq !== head.seq + 1) return fail(n, `seq ${entry.seq} where ${head.seq + 1} was expected (an entry was removed or reordered)`);
    if (entryHash(entry) !== entry.hash) return fail(n, 'the entry does not match its hash (it was edited)');
    head = { seq: entry.seq, hash: entry.hash };
  }
  return { ok: true, entries: lines.length, head };
}
