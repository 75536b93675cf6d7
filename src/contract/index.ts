// The bottom layer every other module may import: JSON and patch types, the
// policy contract (one input for every face, one decision back) and the agent
// API's tool-call types.

export * from './json.js';
export * from './policy.js';
export * from './tool.js';
