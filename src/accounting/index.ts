/**
 * Privacy accounting for DP-SGD (Poisson-subsampled Gaussian, add-or-remove-one adjacency):
 * RDP and PLD accountants, noise calibration, the training ledger and its privacy.json.
 */
export type { Segment, AccountantName, Conversion, FractionalSeries, EpsilonOptions, EpsilonResult } from './types.js';
export { accountantNames, conversions } from './types.js';
export { DEFAULT_RDP_ORDERS } from './orders.js';
export { computeEpsilon, composedRdp } from './epsilon.js';
export { calibrateNoise, type CalibrationRequest, type CalibrationOptions } from './calibrate.js';
export { PrivacyLedger, type PrivacyLedgerInit } from './ledger.js';
export {
  readPrivacyLedger,
  parsePrivacyFile,
  privacyFileSchema,
  type PrivacyFile,
  type PrivacyLedgerFile,
  type NonDpPrivacyFile,
} from './privacyFile.js';
export { rdpSubsampledGaussian, rdpCurve, rdpToEpsilon, rdpToDelta } from './rdp.js';
export { pldEpsilon, pldDelta, DEFAULT_VALUE_DISCRETIZATION, SubsampledGaussianLoss } from './pld/index.js';
export { stepsFor, samplingRateFor, defaultDelta } from './steps.js';
export { verifyLedger, EPSILON_RELATIVE_TOLERANCE, PARAMETER_RELATIVE_TOLERANCE, type LedgerVerification, type LedgerMismatch, type TrainingRecordClaim } from './verify-ledger.js';
