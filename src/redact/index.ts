export { fromText, fromValue, type ResultDocument, type ResultFormat } from './document.js';
export { formatPointer, parsePointer } from './pointer.js';
export { parseResult, REDACTED, type RedactedResult, type Redaction, type RedactOptions, redactResult } from './redact.js';
export { secretValuePaths } from './secrets.js';
