/**
 * The hash-chained audit log: one canonical-JSON entry per line, each carrying the hash of the
 * previous entry (`prev`) and its own hash (`hash` = sha256 of the canonical entry without
 * `hash`). Editing, removing or reordering an entry breaks the chain at that line. The chain
 * alone cannot stop a writer who recomputes it or truncates it: each audit's signed attestation
 * names the head including the audit's own entry, and `audit-log verify --attestation` checks the
 * log against those signed heads (docs/SCIENCE.md#audit-log-integrity).
 *
 * An entry is appended as one whole line and fsynced; a write the disk cuts short is undone and
 * reported, and a log that already ends in a partial line is refused rather than repaired.
 *
 * Entries hold who, when, why, which command and digests of inputs and outputs: never PHI,
 * secrets, raw text, or flag values that could carry them.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, fstatSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname, userInfo } from 'node:os';
import { canonicalJson, sha256Hex } from '../core/hash.js';
import { InputError, rethrowWriteFailure, writeFailure } from '../core/errors.js';
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

/** True when the file is empty or its last byte is a newline (its last line is whole). */
function endsWithWholeLine(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * The head (last seq and hash) of a log, or the genesis head for a missing or empty log. A log
 * whose last line is cut short (a crash mid-write by another tool) is refused: appending to it
 * would bury the damage, and repairing it silently would hide it.
 */
export function auditLogHead(path: string): AuditLogHead {
  if (existsSync(path) && !endsWithWholeLine(path)) {
    throw new InputError(`${path}: the last line is incomplete (an interrupted write); run memaudit audit-log verify, then remove the partial line by hand`);
  }
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

/** Takes an exclusive lock file beside the log so concurrent runs cannot fork the chain; returns its release. */
function acquireLock(path: string): () => void {
  const lock = `${path}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw writeFailure(e, lock) ?? new InputError(`${lock}: cannot create the audit log lock (${(e as NodeJS.ErrnoException).code})`);
      }
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
  return () => rmSync(lock, { force: true });
}

/** The next entry of a log whose head is `head`. */
export function nextAuditLogEntry(record: AuditLogRecord, head: AuditLogHead, env: NodeJS.ProcessEnv = process.env): AuditLogEntry {
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
  return { ...body, hash: entryHash(body) };
}

/**
 * Writes `entry` as one line at the end of the log and fsyncs it. If the disk takes only part of
 * the line, the log is cut back to its previous length and the failure reported (exit 2); if even
 * that fails, the error says where the partial line starts.
 */
function appendLine(path: string, entry: AuditLogEntry): void {
  const bytes = Buffer.from(canonicalJson(entry) + '\n', 'utf8');
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o640);
  } catch (e) {
    rethrowWriteFailure(e, path);
  }
  const before = fstatSync(fd).size;
  try {
    for (let done = 0; done < bytes.length; ) {
      const n = writeSync(fd, bytes, done, bytes.length - done);
      // A regular file that takes no byte of a non-empty write has no room left.
      if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      done += n;
    }
    fsyncSync(fd);
  } catch (e) {
    const reason = writeFailure(e, path)?.message ?? `${path}: cannot write (${(e as Error).message})`;
    try {
      ftruncateSync(fd, before);
    } catch {
      throw new InputError(`${reason}; the log now ends in a partial line after byte ${before}: remove it by hand`, { cause: e });
    }
    throw new InputError(`${reason}; audit log entry ${entry.seq} was not appended and the log is unchanged`, { cause: e });
  } finally {
    closeSync(fd);
  }
}

function ensureLogFolder(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    rethrowWriteFailure(e, path);
  }
}

/** Appends one entry to the log at `path` (created with its folder if missing) and returns it. */
export function appendAuditLog(record: AuditLogRecord, path: string = defaultAuditLogPath, env: NodeJS.ProcessEnv = process.env): AuditLogEntry {
  ensureLogFolder(path);
  const release = acquireLock(path);
  try {
    const entry = nextAuditLogEntry(record, auditLogHead(path), env);
    appendLine(path, entry);
    return entry;
  } finally {
    release();
  }
}

/**
 * Computes the next entry, lets `publish` write the outputs that name it (an attestation signing
 * the head that includes this entry), then appends it; the log stays locked throughout so the
 * named head is the real one. If the append fails, `publish`'s `undo` runs before the error
 * propagates, so outputs never name an entry the log lacks.
 */
export async function appendAuditLogAfter<T>(
  record: AuditLogRecord,
  path: string,
  publish: (entry: AuditLogEntry) => Promise<{ value: T; undo: () => void }>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ entry: AuditLogEntry; value: T }> {
  ensureLogFolder(path);
  const release = acquireLock(path);
  try {
    const entry = nextAuditLogEntry(record, auditLogHead(path), env);
    const { value, undo } = await publish(entry);
    try {
      appendLine(path, entry);
    } catch (e) {
      undo();
      throw e;
    }
    return { entry, value };
  } finally {
    release();
  }
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
  return readAuditLogChain(path).verification;
}

/** The chain check plus the entries that chain correctly (all of them when the log is intact). */
export function readAuditLogChain(path: string): { verification: AuditLogVerification; chain: AuditLogEntry[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code})`}`);
  }
  const lines = text.split('\n');
  const partialLastLine = lines[lines.length - 1] !== '';
  if (!partialLastLine) lines.pop();
  const chain: AuditLogEntry[] = [];
  let head: AuditLogHead = { seq: 0, hash: genesisHash };
  const fail = (line: number, message: string) => ({ verification: { ok: false, entries: line - 1, head, problem: { line, message } }, chain });
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    if (partialLastLine && n === lines.length) return fail(n, 'the last line is incomplete (no final newline: an interrupted write)');
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
    chain.push(entry);
  }
  return { verification: { ok: true, entries: lines.length, head }, chain };
}
