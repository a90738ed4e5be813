/**
 * A real full disk for tests: a small tmpfs mounted on a temporary folder, then filled. Mounting
 * needs root (CI runs as root on this machine type); elsewhere `mountFullDisk` returns the reason
 * it could not, and the tests skip saying so rather than passing without the check.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';

export interface FullDisk {
  /** The mounted folder. */
  dir: string;
  /** Fills every free byte (call after placing whatever the test needs on the disk). */
  fill(): void;
  unmount(): void;
}

export function mountFullDisk(sizeKiB = 256): FullDisk | { unavailable: string } {
  const dir = tempDir('memaudit-fulldisk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
    return { unavailable: `cannot mount a tmpfs to simulate a full disk (needs root): ${why}` };
  }
  return {
    dir,
    fill() {
      const fd = openSync(join(dir, 'filler'), 'a');
      const block = Buffer.alloc(4096, 1);
      try {
        for (;;) writeSync(fd, block);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        // The page-granular tail: fill it byte by byte.
        try {
          for (;;) writeSync(fd, block, 0, 1);
        } catch {
          // full
        }
      } finally {
        closeSync(fd);
      }
    },
    unmount() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
