// Redaction: any content in its own shape (redactContent), what a record may
// keep of it (recordValue), and the tool-result face's document editing by
// JSON pointer (Secret values and policy paths).
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
