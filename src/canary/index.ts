/** Canaries: packs, secret spaces, generation, streaming insertion, canary sets and manifests. */
export type * from './types.js';
export { secretSpaceFromSpec, secretSpaceFromSlots } from './secret-space.js';
export { expand as expandSlot, resolveSpec, slotFormats, builtinLists, type SlotSpec } from './formats.js';
export { loadPack, validatePack, builtinPacks, packSpace, type Pack, type TextPack, type TabularPack, type LoadedPack } from './pack.js';
export { generateCanaries, type GenerateOptions } from './generate.js';
export { insertCanaries, type InsertOptions } from './insert.js';
export { planRoles, planPlacements, bernoulliInclusion, type InsertionMode, type Placement } from './roles.js';
export { MultiPatternScanner, type SecretMatch } from './scan.js';
export { surveyInput, preferThreadedSurvey, type InputSurvey, type SurveyResult } from './survey.js';
export { readCanarySet, readManifest, validateCanarySet, validateManifest, spaceOf, writeCanarySet } from './io.js';
export { canarySetSchema, manifestSchema } from './schemas.js';
export { manifestEnvelopePath, checkManifestSignature, type ManifestSignature } from './manifest-signature.js';
export { verifyManifestRoles } from './verify-roles.js';
