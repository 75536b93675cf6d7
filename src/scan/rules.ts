// Credentials recognised by their shape: a vendor prefix, a fixed length, an
// alphabet, sometimes a checksum. The formats are public facts (the vendors
// document them; gitleaks and detect-secrets collect them); the patterns are
// ours. Each is linear — bounded repetitions, no nested quantifiers — and
// guarded by a literal hint, so text without the hint costs one substring
// search per rule.

import { shannonEntropy } from './entropy.js';
import type { FindingKind, Match } from './findings.js';

export interface FormatRule {
  id: string;
  kind: FindingKind;
  description: string;
  pattern: RegExp;
  /** Lower-case literals; the rule runs only on text that contains one. */
  hints: readonly string[];
  /** Capture group holding the secret (0: the whole match). */
  group?: number;
  /** Minimum Shannon entropy of the secret: drops "sk_test_xxxxxxxx" and the like. */
  minEntropy?: number;
  /** Extra check on the value. */
  accept?: (value: string) => boolean;
}

// Boundaries: not glued to other token characters.
const L = '(?<![A-Za-z0-9_])';
const R = '(?![A-Za-z0-9_])';
const rule = (
  id: string,
  kind: FindingKind,
  description: string,
  source: string,
  hints: readonly string[],
  extra: Partial<Pick<FormatRule, 'group' | 'minEntropy' | 'accept'>> & { flags?: string } = {},
): FormatRule => ({
  id: `belay/${id}`,
  kind,
  description,
  pattern: new RegExp(source, extra.flags ?? 'g'),
  hints,
  ...(extra.group !== undefined ? { group: extra.group } : {}),
  minEntropy: extra.minEntropy ?? 2.5,
  ...(extra.accept ? { accept: extra.accept } : {}),
});

const _api = (id: string, vendor: string, source: string, hints: readonly string[], extra: Parameters<typeof rule>[5] = {}) =>
  rule(id, 'api-token', `a ${vendor}`, source, hints, extra);

export const FORMAT_RULES: readonly FormatRule[] = [
  // Cloud providers
  rule('aws-access-key-id', 'cloud-key', 'an AWS access key id', `${L}(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z2-7]{16}${R}`, [
    'a3t',
    'akia',
    'asia',
    'abia',
    'acca',
    'apka',
  ]),
  rule('aws-bedrock-key', 'cloud-key', 'an Amazon Bedrock API key', `${L}ABSK[A-Za-z0-9+/]{109,269}={0,2}`, ['absk']),
  rule('gcp-api-key', 'cloud-key', 'a Google Cloud API key', `${L}AIza[0-9A-Za-z_-]{35}${R.replace('_', '_-')}`, ['aiza'], { minEntropy: 3 }),
  rule('gcp-oauth-secret', 'cloud-key', 'a Google OAuth client secret', `${L}GOCSPX-[A-Za-z0-9_-]{28}${R}`, ['gocspx-']),
  rule(
    'azure-ad-client-secret',
    'cloud-key',
    'an Azure AD client secret',
    `(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])`,
    ['q~'],
    {
      minEntropy: 3,
    },
  ),
  rule('azure-storage-key', 'cloud-key', 'an Azure storage account key', `AccountKey=([A-Za-z0-9+/]{86}==)`, ['accountkey='], { group: 1, minEntropy: 0 }),
  rule('azure-sas-signature', 'cloud-key', 'an Azure shared access signature', `[?&]sig=([A-Za-z0-9%+/]{40,100}(?:%3D|=){0,2})`, ['sig='], {
    group: 1,
    minEntropy: 3.5,
  }),
  rule('alibaba-access-key-id', 'cloud-key', 'an Alibaba Cloud access key id', `${L}LTAI[A-Za-z0-9]{20}${R}`, ['ltai'], { minEntropy: 3 }),
  rule('digitalocean-token', 'cloud-key', 'a DigitalOcean token', `${L}do[opr]_v1_[a-f0-9]{64}${R}`, ['_v1_']),
  rule('databricks-token', 'api-token', 'a Databricks token', `${L}dapi[a-f0-9]{32}(?:-\\d)?${R}`, ['dapi'], { minEntropy: 3 }),
  rule('flyio-token', 'cloud-key', 'a Fly.io token', `${L}(?:fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})`, ['fo1_', 'fm1', 'fm2_']),
  rule('heroku-api-key', 'cloud-key', 'a Heroku API key', `${L}HRKU-AA[0-9A-Za-z_-]{58}${R}`, ['hrku-']),
  rule(
    'ibm-cloud-api-key',
    'cloud-key',
    'an IBM Cloud API key',
    `(?:ibm|bluemix)[\\w.-]{0,20}api[_-]?key["']?\\s{0,4}[:=]\\s{0,4}["']?([A-Za-z0-9_-]{44})${R}`,
    ['ibm', 'bluemix'],
    {
      group: 1,
      flags: 'gi',
    },
  ),
  // Source forges and registries
  rule('github-token', 'api-token', 'a GitHub token', `${L}gh[pousr]_[A-Za-z0-9]{36}${R}`, ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], { minEntropy: 3 }),
  rule('github-fine-grained-pat', 'api-token', 'a GitHub fine-grained token', `${L}github_pat_[A-Za-z0-9_]{82}${R}`, ['github_pat_']),
  rule(
    'gitlab-token',
    'api-token',
    'a GitLab token',
    `${L}(?:glpat|gldt|glft|glsoat|glrt|glcbt|glimt|glptt|glagent|gloas|glffct|glwt)-(?:[0-9a-zA-Z]{1,5}_)?[A-Za-z0-9_-]{20,300}(?:\\.[0-9a-z]{2}\\.[0-9a-z]{7,9})?(?![A-Za-z0-9_-])`,
    ['glpat-', 'gldt-', 'glft-', 'glsoat-', 'glrt-', 'glcbt-', 'glimt-', 'glptt-', 'glagent-', 'gloas-', 'glffct-', 'glwt-'],
    { minEntropy: 3 },
  ),
  rule('gitlab-runner-registration', 'api-token', 'a GitLab runner registration token', `${L}GR1348941[A-Za-z0-9_-]{20,50}${R}`, ['gr1348941']),
  rule('npm-token', 'api-token', 'an npm token', `${L}npm_[A-Za-z0-9]{36}${R}`, ['npm_']),
  rule(
    'npm-legacy-authtoken',
    'api-token',
    'an npm auth token',
    `_authToken\\s{0,3}=\\s{0,3}([A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12})`,
    ['_authtoken'],
    {
      group: 1,
    },
  ),
  rule('pypi-token', 'api-token', 'a PyPI token', `${L}pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000}`, ['pypi-age']),
  rule('rubygems-token', 'api-token', 'a RubyGems token', `${L}rubygems_[a-f0-9]{48}${R}`, ['rubygems_']),
  rule('docker-hub-pat', 'api-token', 'a Docker Hub access token', `${L}dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,60}(?![A-Za-z0-9_-])`, ['dckr_']),
  rule('clojars-token', 'api-token', 'a Clojars token', `${L}CLOJARS_[a-z0-9]{60}${R}`, ['clojars_'], { flags: 'gi' }),
  rule('artifactory-key', 'api-token', 'a JFrog Artifactory key', `${L}(?:AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59})${R}`, ['akcp', 'cmvmd'], { minEntropy: 4 }),
  rule('hashicorp-tf-token', 'api-token', 'a Terraform Cloud token', `${L}[a-z0-9]{14}\\.atlasv1\\.[a-z0-9_=-]{60,70}${R}`, ['atlasv1']),
  rule(
    'vault-token',
    'api-token',
    'a HashiCorp Vault token',
    `${L}(?:hv[sbr]\\.[A-Za-z0-9_-]{90,300}|s\\.[A-Za-z0-9]{24})${R}`,
    ['hvs.', 'hvb.', 'hvr.', 's.'],
    {
      minEntropy: 3.5,
      accept: (v) => !/^s\.[A-Za-z]{24}$/.test(v) && (v.startsWith('hv') || /[0-9]/.test(v)),
    },
  ),
  rule('pulumi-token', 'api-token', 'a Pulumi token', `${L}pul-[a-f0-9]{40}${R}`, ['pul-']),
  rule('doppler-token', 'api-token', 'a Doppler token', `${L}dp\\.(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,44}${R}`, ['dp.']),
  rule(
    'grafana-token',
    'api-token',
    'a Grafana token',
    `${L}(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,3}|eyJrIjoi[A-Za-z0-9]{70,400}={0,3})`,
    ['glsa_', 'glc_', 'eyjrijoi'],
  ),
  rule('sentry-token', 'api-token', 'a Sentry token', `${L}(?:sntryu_[a-f0-9]{64}|sntrys_eyJ[A-Za-z0-9+/=_]{60,400})`, ['sntry']),
  rule('atlassian-token', 'api-token', 'an Atlassian API token', `${L}ATATT3[A-Za-z0-9_=-]{186}`, ['atatt3']),
  rule('linear-key', 'api-token', 'a Linear API key', `${L}lin_api_[A-Za-z0-9]{40}${R}`, ['lin_api_']),
  rule('postman-key', 'api-token', 'a Postman API key', `${L}PMAK-[a-f0-9]{24}-[a-f0-9]{34}${R}`, ['pmak-'], { flags: 'gi' }),
  rule('prefect-key', 'api-token', 'a Prefect API key', `${L}pnu_[A-Za-z0-9]{36}${R}`, ['pnu_']),
  rule('readme-key', 'api-token', 'a ReadMe API key', `${L}rdme_[a-z0-9]{70}${R}`, ['rdme_']),
  rule('planetscale-token', 'api-token', 'a PlanetScale token', `${L}pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_.=-]{32,64}`, ['pscale_']),
  rule('infracost-key', 'api-token', 'an Infracost key', `${L}ico-[A-Za-z0-9]{32}${R}`, ['ico-']),
  rule('scalingo-token', 'api-token', 'a Scalingo token', `${L}tk-us-[A-Za-z0-9_-]{48}${R}`, ['tk-us-']),
  rule('age-secret-key', 'private-key', 'an age secret key', `AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}`, ['age-secret-key-1'], { minEntropy: 0 }),
  rule('onepassword-token', 'api-token', 'a 1Password service account token', `${L}ops_eyJ[A-Za-z0-9+/]{250,}={0,3}`, ['ops_eyj']),
  // Chat and messaging
  rule('slack-token', 'api-token', 'a Slack token', `${L}xox[abposre]-(?:\\d{1,13}-){1,4}[A-Za-z0-9-]{8,64}`, ['xox']),
  rule('slack-config-token', 'api-token', 'a Slack configuration token', `${L}xoxe(?:\\.xox[bp])?-\\d-[A-Z0-9]{140,170}`, ['xoxe'], { flags: 'gi' }),
  rule(
    'slack-webhook',
    'api-token',
    'a Slack incoming webhook URL',
    `(?:https?://)?hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9_]{6,14}/[A-Za-z0-9_]{6,14}/[A-Za-z0-9_]{16,56}`,
    ['hooks.slack.com'],
  ),
  rule(
    'teams-webhook',
    'api-token',
    'a Microsoft Teams webhook URL',
    `https://[a-z0-9-]+\\.webhook\\.office\\.com/webhookb2/[a-z0-9-]{36}@[a-z0-9-]{36}/IncomingWebhook/[a-z0-9]{32}/[a-z0-9-]{36}`,
    ['webhook.office.com'],
  ),
  rule(
    'discord-webhook',
    'api-token',
    'a Discord webhook URL',
    `https://(?:ptb\\.|canary\\.)?discord(?:app)?\\.com/api/webhooks/\\d{17,20}/[A-Za-z0-9_-]{60,68}`,
    ['discord'],
  ),
  rule('telegram-bot-token', 'api-token', 'a Telegram bot token', `${L}\\d{8,10}:AA[A-Za-z0-9_-]{33}${R}`, [':aa']),
  rule('twilio-key', 'api-token', 'a Twilio API key', `${L}SK[0-9a-f]{32}${R}`, ['sk'], { minEntropy: 3, flags: 'g' }),
  rule('sendgrid-key', 'api-token', 'a SendGrid API key', `${L}SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}${R}`, ['sg.']),
  rule('sendinblue-key', 'api-token', 'a Brevo (Sendinblue) key', `${L}xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}${R}`, ['xkeysib-']),
  rule('mailgun-key', 'api-token', 'a Mailgun key', `${L}key-[a-f0-9]{32}${R}`, ['key-'], { minEntropy: 3.2 }),
  rule('mailchimp-key', 'api-token', 'a Mailchimp key', `${L}[a-f0-9]{32}-us\\d{1,2}${R}`, ['-us']),
  // Payments and commerce
  rule('stripe-key', 'api-token', 'a Stripe secret or restricted key', `${L}(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,247}${R}`, ['sk_', 'rk_'], {
    minEntropy: 3,
  }),
  rule('stripe-webhook-secret', 'api-token', 'a Stripe webhook signing secret', `${L}whsec_[A-Za-z0-9]{32,64}${R}`, ['whsec_']),
  rule('square-token', 'api-token', 'a Square token', `${L}(?:sq0atp|sq0csp)-[A-Za-z0-9_-]{22,60}`, ['sq0']),
  rule('shopify-token', 'api-token', 'a Shopify token', `${L}shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}${R}`, ['shpat_', 'shpca_', 'shppa_', 'shpss_']),
  rule('shippo-token', 'api-token', 'a Shippo token', `${L}shippo_(?:live|test)_[a-fA-F0-9]{40}${R}`, ['shippo_']),
  rule('easypost-key', 'api-token', 'an EasyPost key', `${L}EZ[AT]K[A-Za-z0-9]{54}${R}`, ['ezak', 'eztk']),
  rule('duffel-token', 'api-token', 'a Duffel token', `${L}duffel_(?:test|live)_[A-Za-z0-9_=-]{43}`, ['duffel_']),
  rule('flutterwave-key', 'api-token', 'a Flutterwave key', `FLW(?:SECK|PUBK)_TEST-[a-hA-H0-9]{32}-X`, ['flwseck', 'flwpubk']),
  rule('coinbase-key', 'api-token', 'a Coinbase key', `organizations/[a-f0-9-]{36}/apiKeys/[a-f0-9-]{36}`, ['apikeys/']),
  // AI providers
  rule(
    'openai-key',
    'api-token',
    'an OpenAI API key',
    `${L}sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})(?![A-Za-z0-9_-])`,
    ['t3blbkfj'],
  ),
  rule(
    'openai-key-new',
    'api-token',
    'an OpenAI API key',
    `${L}sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{80,250}(?![A-Za-z0-9_-])`,
    ['sk-proj-', 'sk-svcacct-', 'sk-admin-'],
    { minEntropy: 4 },
  ),
  rule('anthropic-key', 'api-token', 'an Anthropic API key', `${L}sk-ant-(?:api|admin|sid)\\d{2}-[A-Za-z0-9_-]{80,120}(?![A-Za-z0-9_-])`, ['sk-ant-']),
  rule('huggingface-token', 'api-token', 'a Hugging Face token', `${L}(?:hf_|api_org_)[A-Za-z]{34}${R}`, ['hf_', 'api_org_'], { minEntropy: 3 }),
  rule('perplexity-key', 'api-token', 'a Perplexity API key', `${L}pplx-[A-Za-z0-9]{48}${R}`, ['pplx-']),
  rule('groq-key', 'api-token', 'a Groq API key', `${L}gsk_[A-Za-z0-9]{52}${R}`, ['gsk_']),
  rule('replicate-token', 'api-token', 'a Replicate token', `${L}r8_[A-Za-z0-9]{37}${R}`, ['r8_']),
  rule(
    'cohere-key',
    'api-token',
    'a Cohere API key',
    `(?:cohere|co_api_key)[\\w.-]{0,20}["']?\\s{0,4}[:=]\\s{0,4}["']?([A-Za-z0-9]{40})${R}`,
    ['cohere', 'co_api_key'],
    {
      group: 1,
      flags: 'gi',
      minEntropy: 4,
    },
  ),
  // Observability and SaaS
  rule('newrelic-key', 'api-token', 'a New Relic key', `${L}(?:NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9-]{32}|NRJS-[a-f0-9]{19})${R}`, ['nrak-', 'nrii-', 'nrjs-']),
  rule('dynatrace-token', 'api-token', 'a Dynatrace token', `dt0c01\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{64}`, ['dt0c01.']),
  rule('notion-token', 'api-token', 'a Notion token', `${L}(?:ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})${R}`, ['ntn_', 'secret_'], {
    minEntropy: 3.5,
  }),
  rule('airtable-pat', 'api-token', 'an Airtable token', `${L}pat[A-Za-z0-9]{14}\\.[a-f0-9]{64}${R}`, ['pat']),
  rule('typeform-token', 'api-token', 'a Typeform token', `${L}tfp_[A-Za-z0-9_.=-]{59}`, ['tfp_']),
  rule('frameio-token', 'api-token', 'a Frame.io token', `fio-u-[A-Za-z0-9_=-]{64}`, ['fio-u-']),
  rule('adobe-secret', 'api-token', 'an Adobe client secret', `${L}p8e-[A-Za-z0-9]{32}${R}`, ['p8e-']),
  rule('clickhouse-secret', 'api-token', 'a ClickHouse Cloud secret', `${L}4b1d[A-Za-z0-9]{38}${R}`, ['4b1d'], { minEntropy: 3.5 }),
  rule('cloudflare-origin-ca', 'api-token', 'a Cloudflare Origin CA key', `${L}v1\\.0-[a-f0-9]{24}-[a-f0-9]{146}${R}`, ['v1.0-']),
  rule('maxmind-key', 'api-token', 'a MaxMind license key', `${L}[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk${R}`, ['_mmk']),
  rule('harness-token', 'api-token', 'a Harness token', `${L}(?:pat|sat)\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{20}${R}`, ['pat.', 'sat.']),
  rule('octopus-key', 'api-token', 'an Octopus Deploy key', `${L}API-[A-Z0-9]{26}${R}`, ['api-'], { minEntropy: 3 }),
  rule('facebook-token', 'api-token', 'a Facebook access token', `${L}EAA[MC][A-Za-z0-9]{100,}${R}`, ['eaam', 'eaac'], { minEntropy: 4 }),
  rule(
    'authress-key',
    'api-token',
    'an Authress key',
    `${L}(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\\.[A-Za-z0-9]{4,6}\\.acc[_-][A-Za-z0-9-]{10,32}\\.[A-Za-z0-9+/_=-]{30,120}`,
    ['.acc'],
  ),
  rule('settlemint-token', 'api-token', 'a SettleMint token', `${L}sm_(?:aat|pat|sat)_[A-Za-z0-9]{16}${R}`, ['sm_']),
  // Kubernetes and OpenShift
  rule(
    'openshift-token',
    'cluster-token',
    'an OpenShift OAuth token (sha256~…), which logs in to the cluster',
    `${L}sha256~[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])`,
    ['sha256~'],
    // The prefix and the exact length are enough; no entropy floor.
    { minEntropy: 0 },
  ),
  rule(
    'kubeadm-certificate-key',
    'cluster-token',
    "a kubeadm certificate key (it decrypts the cluster's control-plane certificates)",
    `(?:--certificate-key[= ]{1,3}|certificate key:\\s{1,8})([a-f0-9]{64})${R}`,
    ['certificate-key', 'certificate key'],
    { group: 1, flags: 'gi' },
  ),
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Every hint of every rule in one pattern: one pass over the text says which rules can match. */
const ALL_HINTS = new RegExp(
  [...new Set(FORMAT_RULES.flatMap((r) => r.hints))]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|'),
  'g',
);

/** The hints present in `lower` (the text in lower case). */
function presentHints(lower: string): Set<string> {
  const found = new Set<string>();
  ALL_HINTS.lastIndex = 0;
  for (const m of lower.matchAll(ALL_HINTS)) found.add(m[0]);
  return found;
}

/** Runs every format rule whose hint occurs in `lower` (the text in lower case) over `text`. */
export function formatMatches(text: string, lower: string, rules: readonly FormatRule[] = FORMAT_RULES): Match[] {
  const out: Match[] = [];
  const present = presentHints(lower);
  for (const r of rules) {
    if (!r.hints.some((h) => present.has(h) || [...present].some((p) => p.includes(h)))) continue;
    r.pattern.lastIndex = 0;
    for (const m of text.matchAll(r.pattern)) {
      const value = m[r.group ?? 0];
      if (value === undefined) continue;
      const start = m.index + (r.group ? m[0].indexOf(value) : 0);
      if (r.minEntropy !== undefined && shannonEntropy(value) < r.minEntropy) continue;
      if (r.accept && !r.accept(value)) continue;
      if (/EXAMPLE/.test(value)) continue;
      out.push({ kind: r.kind, rule: r.id, start, end: start + value.length, description: r.description });
    }
  }
  return out;
}
