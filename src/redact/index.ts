// Redaction: any content in its own shape (redactContent), what a record may
// keep of it (recordValue) and of a tool call (storedToolCall), the
// tool-result face's scan and redaction (scanResult, redactScanned), and
// document editing by JSON pointer (Secret values and policy paths).
export {
  DEFAULT_ARGUMENT_BYTES,
  type Restored,
  redactedObject,
  restoreRedacted,
  type StoredToolCall,
  sameArguments,
  storedToolCall,
} from './arguments.js';
export {
  type ContentFinding,
  type ContentFormat,
  type ContentStatus,
  isMcpContent,
  type RedactContentOptions,
  type RedactedContent,
  redactContent,
} from './content.js';
export { fromText, fromValue, type ResultDocument, type ResultFormat } from './document.js';
export { formatPointer, parsePointer } from './pointer.js';
export { canonicalDigest, DEFAULT_RECORD_BYTES, type RecordedValue, type RecordOptions, recordValue } from './record.js';
export { parseResult, REDACTED, type RedactedResult, type Redaction, type RedactOptions, redactResult } from './redact.js';
export { secretValuePaths } from './secrets.js';
export {
  type RedactedToolResult,
  type ResultFinding,
  type ResultFormatHint,
  type ResultRedaction,
  redactScanned,
  type ScannedResult,
  type ScanResultOptions,
  scanResult,
} from './toolresult.js';
