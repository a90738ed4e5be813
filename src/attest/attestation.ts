/** The attestation of an audit run: the in-toto statement in a DSSE envelope, signed when a key is given. */
import { inTotoPayloadType, signEnvelope, unsignedEnvelope, type DsseEnvelope } from './dsse.js';
import type { LoadedPrivateKey } from './keys.js';
import type { Statement } from './statement.js';

export const attestationFileName = 'attestation.dsse.json';

export interface Attestation {
  envelope: DsseEnvelope;
  signed: boolean;
  keyid: string | null;
}

/** Serializes the statement once; those exact bytes are signed and carried in the envelope. */
export function attestStatement(statement: Statement, key: LoadedPrivateKey | null): Attestation {
  const body = Buffer.from(JSON.stringify(statement), 'utf8');
  if (!key) return { envelope: unsignedEnvelope(inTotoPayloadType, body), signed: false, keyid: null };
  return { envelope: signEnvelope(inTotoPayloadType, body, key.key), signed: true, keyid: key.keyid };
}
