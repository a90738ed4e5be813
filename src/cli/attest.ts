/** `memaudit attest keygen|verify|show`: signing keys for attestations, checking an attestation, and reading one. */
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../core/errors.js';
import { loadPublicKey, signingAlgorithms, writeKeyPair, type SigningAlgorithm } from '../attest/keys.js';
import { provenancePredicateType } from '../attest/statement.js';
import { renderTable } from '../core/format.js';
import { runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';
import type { Reason } from '../policy/checks/reason.js';
import { reasonLines } from '../attest/show.js';

interface KeygenArgs extends GlobalArgs {
  out: string;
  algorithm: SigningAlgorithm;
  force: boolean;
}

const keygenCommand: CommandModule<GlobalArgs, KeygenArgs> = {
  command: 'keygen',
  describe: 'Write DIR/memaudit.key (PKCS#8 PEM, mode 0600) and DIR/memaudit.pub (SPKI PEM)',
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'Folder for the key pair (keep it out of the repository)' })
      .option('algorithm', { choices: signingAlgorithms, default: 'ecdsa-p256' as SigningAlgorithm, describe: 'ecdsa-p256 (cosign-compatible) or ed25519' })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing key pair' }) as unknown as Argv<KeygenArgs>,
  handler: (args) =>
    runCommand('attest keygen', async () => {
      const pair = await writeKeyPair(args.out, args.algorithm, args.force);
      const keyPath = pair.privateKeyPath;
      const pubPath = pair.publicKeyPath;
      emit(args, { privateKey: keyPath, publicKey: pubPath, algorithm: pair.algorithm, keyid: pair.keyid }, () =>
        `${pair.algorithm} key pair written:\n  ${keyPath} (private, mode 0600: sign with --sign-key or $MEMAUDIT_SIGNING_KEY)\n  ${pubPath} (public: give to verifiers)\nkeyid ${pair.keyid}`,
      );
    }),
};

interface VerifyArgs extends GlobalArgs {
  attestation: string;
  key: string;
  model?: string;
}

const verifyCommand: CommandModule<GlobalArgs, VerifyArgs> = {
  command: 'verify',
  describe: 'Exit 0 only if the signature holds under --key and (with --model) every attested model file is unchanged',
  builder: (y) =>
    y
      .option('attestation', { type: 'string', demandOption: true, describe: 'RUN_DIR/attestation.dsse.json, or a model directory\'s provenance.dsse.json' })
      .option('key', { type: 'string', demandOption: true, describe: 'Public key (memaudit.pub, SPKI PEM)' })
      .option('model', { type: 'string', describe: 'Model directory whose files must match the attested subjects' }) as unknown as Argv<VerifyArgs>,
  handler: (args) =>
    runCommand('attest verify', async () => {
      // ajv (schema checks) is loaded only by the command that needs it, not by every start-up.
      const { readEnvelope, verifyAttestation } = await import('../attest/verify.js');
      const envelope = readEnvelope(args.attestation);
      const { key } = loadPublicKey(args.key);
      const v = await verifyAttestation(envelope, key, args.model);
      // Training provenance must also name every file the loader reads, not just match the ones it names.
      const isProvenance = v.statement?.predicateType === provenancePredicateType;
      if (v.ok && isProvenance && args.model !== undefined) {
        const { provenanceCoverageProblem } = await import('../attest/provenance.js');
        const problem = provenanceCoverageProblem(v.statement!, args.model);
        if (problem) Object.assign(v, { ok: false, problem });
      }
      const predicate = (v.statement?.predicate ?? {}) as { verdict?: string; policy?: { name: string }; reasons?: Reason[] };
      const result = {
        ok: v.ok,
        problem: v.problem,
        keyid: v.keyid ?? null,
        predicateType: v.statement?.predicateType ?? null,
        verdict: predicate.verdict ?? null,
        subjects: v.statement?.subject.length ?? 0,
        modelChecked: args.model !== undefined,
        files: v.subjects,
      };
      emit(args, result, () => {
        if (!v.ok) return '';
        const rows = [
          ['item', 'value'],
          ['signature', `valid (keyid ${v.keyid ?? 'not given'})`],
          isProvenance ? ['statement', 'training provenance'] : ['verdict attested', predicate.verdict ?? '-'],
          ['subjects', String(result.subjects)],
        ];
        if (args.model) rows.push(['model files', `${v.subjects.length} match their attested sha256`]);
        const reasons = predicate.reasons ? ['Reasons (outcome, check = value (pass condition): why):', ...reasonLines(predicate.reasons)] : [];
        return [renderTable(rows).trimEnd(), ...reasons].join('\n');
      });
      if (!v.ok) {
        process.stderr.write(`memaudit attest verify: ${args.attestation}: ${v.problem}\n`);
        return ExitCode.gateFailed;
      }
      return ExitCode.ok;
    }),
};

interface ShowArgs extends GlobalArgs {
  file: string;
  key?: string;
}

const showCommand: CommandModule<GlobalArgs, ShowArgs> = {
  command: 'show <file>',
  describe: 'Print an attestation or training provenance (a DSSE envelope) decoded: subjects, verdict and reasons, policy, ledger, signer, time',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'attestation.dsse.json or provenance.dsse.json' })
      .option('key', { type: 'string', describe: 'Public key (memaudit.pub) to check the signature with; without it the statement is shown unverified' }) as unknown as Argv<ShowArgs>,
  handler: (args) =>
    runCommand('attest show', async () => {
      const { readEnvelope, verifyAttestation } = await import('../attest/verify.js');
      const { decodeStatement, describeStatement } = await import('../attest/show.js');
      const envelope = readEnvelope(args.file);
      const statement = decodeStatement(envelope, args.file);
      const hintedKeyid = envelope.signatures[0]?.keyid;
      let signature = 'NOT CHECKED (give --key to verify it); the keyid below is an unauthenticated hint';
      let ok = true;
      if (args.key !== undefined) {
        const v = await verifyAttestation(envelope, loadPublicKey(args.key).key);
        ok = v.ok;
        signature = v.ok ? `valid under ${args.key}` : `INVALID: ${v.problem}`;
      }
      emit(args, { signatureChecked: args.key !== undefined, signatureValid: args.key === undefined ? null : ok, keyid: hintedKeyid ?? null, statement }, () =>
        `${args.file}\n${describeStatement(statement, signature, hintedKeyid)}`,
      );
      if (!ok) {
        process.stderr.write(`memaudit attest show: ${args.file}: the signature does not verify under ${args.key}\n`);
        return ExitCode.gateFailed;
      }
      return ExitCode.ok;
    }),
};

export const attestCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'attest',
  describe: 'Signing keys and verification of attestations (in-toto Statement v1 in a DSSE envelope)',
  builder: (y) =>
    y
      .command(keygenCommand as unknown as CommandModule<GlobalArgs, GlobalArgs>)
      .command(verifyCommand as unknown as CommandModule<GlobalArgs, GlobalArgs>)
      .command(showCommand as unknown as CommandModule<GlobalArgs, GlobalArgs>)
      .demandCommand(1, 'Name a subcommand: keygen, verify or show'),
  handler: () => {},
};
