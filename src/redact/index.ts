export { fromText, fromValue, type ResultDocument, type ResultFormat } from './document.js';
export { formatPointer, parsePointer } from './pointer.js';
export { parseResult, REDACTED, redactResult, type RedactedResult, type Redaction, type RedactOptions } from './redact.js';
export { secretValuePaths } from './secrets.js';
