// The secret scanner: scan() plain text for credentials (exact UTF-16 spans,
// a status that says whether the scan finished), redactSpans() to replace
// exactly those spans. Structured values and records are in src/redact.
export { shannonEntropy } from './entropy.js';
export { FINDING_KINDS, type Finding, type FindingKind } from './findings.js';
export { classifyKey, isPlaceholder, type KeyClass } from './keys.js';
export { isServiceAccountJwt } from './kubernetes.js';
export {
  Budget,
  DEFAULT_MAX_FINDINGS,
  DEFAULT_TIMEOUT_MS,
  type LegacyScanOptions,
  type LegacyScanResult,
  MAX_SCAN_LENGTH,
  REDACTED,
  redactSpans,
  redactText,
  type ScanOptions,
  type ScanResult,
  type ScanStatus,
  scan,
  scanText,
} from './scanner.js';
export { fromJs, MAX_DEPTH, type SNode, type StructuredHit, structuredSecrets } from './structure.js';
