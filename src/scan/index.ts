export { shannonEntropy } from './entropy.js';
export { FINDING_KINDS, type Finding, type FindingKind } from './findings.js';
export { isServiceAccountJwt } from './kubernetes.js';
export { MAX_SCAN_LENGTH, REDACTED, redactSpans, type ScanOptions, type ScanResult, scanText } from './scanner.js';
