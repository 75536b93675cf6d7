export { approvalEvidence, readDecisionLog, type ApprovalEvidence, type DecisionEvidence, type DecisionLogRead } from './evidence.js';
export { renderJson, renderTable } from './render.js';
export { buildReport, DEFAULT_THRESHOLDS, recommend, trustConfigFrom, type GraduationThresholds, type Recommendation, type SubjectRow, type TrustConfig, type TrustReport } from './report.js';
