/** Reading policies: the documented default (default-policy.json beside this file) or a user's file. */
import { sha256Json } from '../core/hash.js';
import { readJsonFile, validate } from '../core/schema.js';
import defaultPolicyJson from './default-policy.json' with { type: 'json' };
import { policySchema } from './schema.js';
import type { LoadedPolicy, Policy } from './types.js';

export function policyDigest(policy: Policy): string {
  return sha256Json(policy);
}

/** The default policy (validated, so an edit that breaks the schema fails every test at once). */
export function defaultPolicy(): LoadedPolicy {
  const policy = validate<Policy>(policySchema, structuredClone(defaultPolicyJson), 'default policy (src/policy/default-policy.json)');
  return { policy, digest: policyDigest(policy), source: 'default' };
}

/** `--policy FILE` when given (schema-validated, one-line error naming the file and place), else the default. */
export function loadPolicy(path?: string): LoadedPolicy {
  if (!path) return defaultPolicy();
  const policy = readJsonFile<Policy>(path, policySchema);
  return { policy, digest: policyDigest(policy), source: path };
}
