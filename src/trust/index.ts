export {
  type ApprovalEvidence,
  approvalEvidence,
  approvalOutcomeEvidence,
  type BreakerEvidence,
  type DecisionEvidence,
  type DecisionLogRead,
  type OutcomeEvidence,
  outcomeEvidence,
  readDecisionLog,
} from './evidence.js';
export { renderJson, renderTable } from './render.js';
export {
  buildReport,
  DEFAULT_THRESHOLDS,
  type GraduationThresholds,
  type OutcomeInputs,
  outcomeSettingsFrom,
  type Recommendation,
  recommend,
  type SubjectRow,
  type TrustConfig,
  type TrustReport,
  trustConfigFrom,
} from './report.js';
