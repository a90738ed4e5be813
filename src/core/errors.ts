/**
 * Exit codes (DESIGN.md "Exit codes") and the error types that map onto them.
 *
 * Every failure a user can cause is a MemauditError subclass carrying one human line; the CLI
 * prints that line and exits with the class's code. Anything else is a bug and exits 70.
 */
export const ExitCode = {
  ok: 0,
  /** The gate failed: the weights must be treated as PHI, or a DP claim was refuted. */
  gateFailed: 1,
  /** Bad usage or bad input. */
  usage: 2,
  /** Not enough evidence to clear the model. */
  inconclusive: 3,
  /** A bug in memaudit. */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class MemauditError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Wrong flags or flag values. */
export class UsageError extends MemauditError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, options);
  }
}

/**
 * A bad input file or value: the message names the file (or URL), the place in it, and what is
 * wrong, e.g. `data.jsonl line 17: not valid JSON (Unexpected token)`.
 */
export class InputError extends MemauditError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, options);
  }
}

/**
 * A probe needed something the target cannot do (e.g. score text through an API that only
 * generates). The verdict turns this into INCONCLUSIVE; from a single probe command it exits 3.
 */
export class CapabilityError extends MemauditError {
  readonly capability: string;
  constructor(capability: string, message: string) {
    super(message, ExitCode.inconclusive);
    this.capability = capability;
  }
}

/** Not enough evidence to decide (too few canaries, no usable scores, ...). */
export class InconclusiveError extends MemauditError {
  constructor(message: string) {
    super(message, ExitCode.inconclusive);
  }
}

export function isMemauditError(e: unknown): e is MemauditError {
  return e instanceof MemauditError;
}

/** File-system failures of a write that the user fixes (space, quota, permissions), not bugs. */
const writeFailureReasons: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EFBIG: 'file too large for the file system',
};

/**
 * Failures that only mean something for a write: the folder to write into cannot be made (Node's
 * recursive mkdir reports a read-only parent as ENOENT) or a path component is in the way.
 */
const writeOnlyReasons: Record<string, string> = {
  ENOENT: 'its folder cannot be created',
  ENOTDIR: 'a component of the path is not a folder',
  EEXIST: 'a file is in the way of its folder',
  EISDIR: 'it is a folder',
};

/**
 * The InputError for a failed write of `path` (the file the user named, not a temporary), or null
 * when `e` is not a user-fixable file-system failure. A write on a descriptor carries no path,
 * so callers that know the file pass it.
 */
export function writeFailure(e: unknown, path: string): InputError | null {
  const code = e instanceof MemauditError ? undefined : (e as NodeJS.ErrnoException | null)?.code;
  const reason = fileSystemReason(e) ?? (typeof code === 'string' ? writeOnlyReasons[code] : undefined);
  return reason ? new InputError(`${path}: cannot write (${reason})`, { cause: e }) : null;
}

function fileSystemReason(e: unknown): string | undefined {
  if (e instanceof MemauditError) return undefined;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? writeFailureReasons[code] : undefined;
}

/** A file-system failure no caller mapped: still the user's to fix, named by the path Node gives. */
function unmappedFileSystemFailure(e: unknown): string | null {
  const reason = fileSystemReason(e);
  if (!reason) return null;
  const err = e as NodeJS.ErrnoException;
  return `${err.path ?? `a file (${err.syscall ?? 'unknown call'})`}: ${reason}`;
}

/** Rethrows a user-fixable write failure as an InputError naming `path`; anything else unchanged. */
export function rethrowWriteFailure(e: unknown, path: string): never {
  throw writeFailure(e, path) ?? e;
}

/** One line for a caught error, without a stack trace: the message of a known error, else a bug report line. */
export function describeError(e: unknown): { line: string; exitCode: ExitCode } {
  if (isMemauditError(e)) return { line: e.message, exitCode: e.exitCode };
  const fsFailure = unmappedFileSystemFailure(e);
  if (fsFailure) return { line: fsFailure, exitCode: ExitCode.usage };
  const message = e instanceof Error ? e.message : String(e);
  return {
    line: `internal error (a bug in memaudit): ${message.split('\n')[0]}. Set MEMAUDIT_DEBUG=1 for the stack trace.`,
    exitCode: ExitCode.internal,
  };
}
