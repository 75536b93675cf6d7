// `belay mcp --wait 30s`: a deferred call waits for an approver instead of
// failing at once. The gateway's approval endpoint long-polls; while it waits
// the client is sent MCP progress notifications (when it gave a
// progressToken), which also keep its request timeout from firing.

import type { ApprovalView, GateApi } from './gateway.js';

/** Sends one progress notification: a number that grows, the total, a sentence. */
export type Progress = (progress: number, total: number, message: string) => void;

/** The longest single long-poll; the gateway caps waits at 55s and proxies cut idle requests at 60s. */
const POLL_MS = 25_000;
/** How often the client hears that belay is still waiting. */
const TICK_MS = 5_000;

/** Waits until the approval leaves Pending or `waitMs` passes; returns where it stands then. */
export async function waitForApproval(gate: GateApi, id: string, waitMs: number, signal: AbortSignal, progress?: Progress): Promise<ApprovalView> {
  const started = Date.now();
  const deadline = started + waitMs;
  const totalS = Math.round(waitMs / 1000);
  const say = () => {
    const s = Math.min(totalS, Math.round((Date.now() - started) / 1000));
    progress?.(s, totalS, `waiting for an approver to decide ApprovalRequest ${id} (${s}s of ${totalS}s)`);
  };
  say();
  const ticker = progress ? setInterval(say, TICK_MS) : undefined;
  try {
    for (;;) {
      const left = deadline - Date.now();
      const view = await gate.approval(id, { waitMs: Math.max(0, Math.min(POLL_MS, left)), phase: 'Pending' }, signal);
      if (view.phase !== 'Pending' || Date.now() >= deadline - 250) return view;
    }
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
