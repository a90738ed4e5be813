/**
 * The last line of defence for "no PHI in outputs": before a report, attestation or log entry is
 * written, its text is searched for every canary secret and canary record of the manifest. The
 * canaries stand in for PHI, so finding one means some field carries raw generations or training
 * text: that is a bug, and nothing is written.
 */
import type { Manifest } from '../canary/types.js';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches `s` not embedded in a longer alphanumeric run (so a digit secret inside a hex digest is not a hit). */
function standalone(s: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z])${escapeRegExp(s)}(?![0-9A-Za-z])`);
}

/** Throws (an internal error: a bug) if `text` contains a canary secret or record; names only the canary id. */
export function assertNoCanaryText(text: string, manifest: Manifest, what: string): void {
  for (const c of manifest.canaries) {
    for (const s of [c.secret, c.text]) {
      if (s.length < 5) continue;
      const forms = [s, JSON.stringify(s).slice(1, -1)];
      if (forms.some((f) => text.includes(f) && standalone(f).test(text))) {
        throw new Error(`refusing to write ${what}: it contains the secret or text of canary ${c.id} (raw text must never reach an output)`);
      }
    }
  }
}
