// The maintained rule set: secretlint's recommended preset (AWS, GCP, GitHub,
// Slack, npm, OpenAI, Anthropic, private keys, basic auth in URLs, database
// connection strings, …), run as a library on text, offline. Its messages
// quote the secret, so only the rule, the kind and the span are kept.

import { lintSource } from '@secretlint/core';
import { rules as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import type { SecretLintCoreConfig } from '@secretlint/types';
import type { FindingKind, Match } from './findings.js';

const PREFIX = '@secretlint/secretlint-rule-';

const KINDS: Record<string, FindingKind> = {
  privatekey: 'private-key',
  aws: 'cloud-key',
  gcp: 'cloud-key',
  basicauth: 'basic-auth',
  'database-connection-string': 'connection-string',
};

const DESCRIPTIONS: Partial<Record<FindingKind, string>> = {
  'private-key': 'a private key',
  'cloud-key': 'a cloud provider credential',
  'basic-auth': 'a user name and password in a URL',
  'connection-string': 'a database connection string with a password',
  'api-token': 'an API token',
};

/**
 * The preset's scanners, minus the comment filter: a prompt must not be able
 * to switch scanning off with a `secretlint-disable` comment. AWS access key
 * ids are scanned too (the preset leaves them out by default).
 */
const CONFIG: SecretLintCoreConfig = {
  rules: recommended
    .filter((rule) => rule.meta.id !== `${PREFIX}filter-comments`)
    .map((rule) => ({
      id: rule.meta.id,
      rule: rule as never,
      options: rule.meta.id === `${PREFIX}aws` ? { enableIDScanRule: true } : {},
    })),
};

export async function secretlintMatches(text: string): Promise<Match[]> {
  const result = await lintSource({
    source: { content: text, filePath: '/belay/scan.txt', ext: '.txt', contentType: 'text' },
    options: { config: CONFIG, maskSecrets: true, noPhysicFilePath: true },
  });
  return result.messages
    .filter((m) => m.type === 'message')
    .map((m): Match => {
      const name = m.ruleId.startsWith(PREFIX) ? m.ruleId.slice(PREFIX.length) : m.ruleId;
      const kind = KINDS[name] ?? 'api-token';
      return { kind, rule: m.ruleId, start: m.range[0], end: m.range[1], description: `${DESCRIPTIONS[kind] ?? 'a credential'} (${m.messageId})` };
    });
}
