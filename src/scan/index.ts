export { FINDING_KINDS, type Finding, type FindingKind } from './findings.js';
export { shannonEntropy } from './entropy.js';
export { isServiceAccountJwt } from './kubernetes.js';
export { MAX_SCAN_LENGTH, REDACTED, redactSpans, scanText, type ScanOptions, type ScanResult } from './scanner.js';
