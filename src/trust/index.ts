export { type ApprovalEvidence, approvalEvidence, type DecisionEvidence, type DecisionLogRead, readDecisionLog } from './evidence.js';
export { renderJson, renderTable } from './render.js';
export {
  buildReport,
  DEFAULT_THRESHOLDS,
  type GraduationThresholds,
  type Recommendation,
  recommend,
  type SubjectRow,
  type TrustConfig,
  type TrustReport,
  trustConfigFrom,
} from './report.js';
