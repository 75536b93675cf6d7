// Is a key named like a credential, and is a value a real secret or a
// placeholder? The key-aware detectors (text assignments, YAML and JSON
// structure, structured values) all ask these two questions, so a key or a
// placeholder is judged the same wherever it appears.

export type KeyClass = 'password' | 'secret-value';

const PASSWORD_WORDS = new Set(['password', 'passwd', 'pwd', 'pass', 'passphrase', 'passcode', 'pw', 'contrasena', 'passwort']);
const SECRET_WORDS = new Set([
  'secret',
  'secrets',
  'token',
  'tokens',
  'credential',
  'credentials',
  'creds',
  'apikey',
  'privatekey',
  'accesskey',
  'secretkey',
  'auth',
  'authorization',
  'authtoken',
  'bearer',
  'jwt',
  'pat',
  'cookie',
  'dsn',
]);
/** Words that make a following "key" a credential: api key, signing key, client key… */
const KEY_QUALIFIERS = new Set([
  'api',
  'access',
  'secret',
  'private',
  'signing',
  'sign',
  'encryption',
  'encrypt',
  'decryption',
  'master',
  'account',
  'storage',
  'client',
  'auth',
  'shared',
  'license',
  'subscription',
  'service',
  'app',
  'admin',
  'root',
  'consumer',
  'hmac',
  'ssh',
  'certificate',
  'cert',
  'tls',
  'session',
  'webhook',
  'crypto',
  'jwt',
  'aes',
  'bot',
  'user',
  'write',
  'read',
  'ingest',
  'deploy',
  'sdk',
  'server',
  'management',
  'admin',
  'live',
  'prod',
  'partner',
]);
/** Words after the credential word that still name its value (client-key-data, SECRET_KEY_BASE). */
const TRAILING_OK = new Set([
  'data',
  'value',
  'b64',
  'base64',
  'enc',
  'encoded',
  'plain',
  'plaintext',
  'raw',
  'text',
  'string',
  'str',
  'hex',
  'base',
  'old',
  'new',
  'prev',
  'previous',
  'current',
  'next',
  'prod',
  'production',
  'dev',
  'staging',
  'b',
  'v1',
  'v2',
]);
/** Keys that hold something about a credential, not the credential. */
const DISQUALIFYING = new Set([
  'name',
  'names',
  'ref',
  'refs',
  'reference',
  'file',
  'files',
  'path',
  'paths',
  'dir',
  'directory',
  'url',
  'uri',
  'endpoint',
  'type',
  'types',
  'kind',
  'length',
  'len',
  'size',
  'ttl',
  'expiry',
  'expires',
  'expiration',
  'expire',
  'timeout',
  'field',
  'version',
  'policy',
  'policies',
  'provider',
  'mode',
  'method',
  'header',
  'param',
  'prefix',
  'suffix',
  'env',
  'var',
  'arn',
  'location',
  'template',
  'format',
  'count',
  'enabled',
  'enable',
  'disabled',
  'required',
  'rotation',
  'hint',
  'id',
  'ids',
  'hash',
  'hashed',
  'digest',
  'checksum',
  'fingerprint',
  'min',
  'max',
  'rule',
  'rules',
  'regex',
  'pattern',
  'strength',
  'reset',
  'changed',
  'last',
  'updated',
  'created',
  'age',
  'duration',
  'lifetime',
  'seconds',
  'accessor',
  'store',
  'source',
  'mount',
  'volume',
  'selector',
  'label',
  'annotation',
  'keys',
  'audience',
  'issuer',
  'scope',
  'scopes',
  'usage',
  'usages',
  'cache',
  'request',
  'requests',
  'review',
  'reviews',
  'controller',
  'cleaner',
  'manager',
  'count',
  'total',
  'valid',
  'public',
  'pub',
  'page',
  'continue',
  'continuation',
  'cursor',
  'csrf',
  'xsrf',
  'nonce',
  'sync',
  'resume',
  'idempotency',
  'cancellation',
  'by',
  'at',
  'on',
  'is',
  'has',
  'should',
  'use',
  'require',
  'allow',
  'show',
  'no',
  'skip',
  'num',
  'sha',
  'sha256',
  'sha1',
  'md5',
  'lock',
  'generator',
  'supplier',
  'rotate',
  'author',
  'type',
  'helper',
  'class',
  'handler',
  'callback',
  'validator',
  'command',
  'cmd',
  'exec',
]);

/** Splits a key into lower-case words: "AWSSecretAccessKey" → aws secret access key; "client-key-data" → client key data. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/** Words glued without separators ("postgrespassword", "accesstoken") end in a credential word. */
function wordClass(word: string, previous: string | undefined, envStyle: boolean, isLast: boolean): KeyClass | null {
  if (PASSWORD_WORDS.has(word)) return 'password';
  if (SECRET_WORDS.has(word)) return 'secret-value';
  if (word === 'key') {
    if (previous !== undefined && KEY_QUALIFIERS.has(previous)) return 'secret-value';
    // FOO_KEY in an environment-style name: a key unless FOO says otherwise.
    if (envStyle && isLast && previous !== undefined && !DISQUALIFYING.has(previous) && !BENIGN_KEY_OWNERS.has(previous)) return 'secret-value';
    return null;
  }
  if (word.length > 6 && /(?:password|passwd)$/.test(word)) return 'password';
  if (word.length > 6 && /(?:secret|apikey|privatekey|accesskey|secretkey)$/.test(word)) return 'secret-value';
  if (word.length > 6 && word.endsWith('token') && !/^(?:page|next|continue|continuation|sync|resume|csrf|xsrf|cancel|cancellation|idempotency)/.test(word))
    return 'secret-value';
  return null;
}

/** Owners of a *_KEY that is not a credential: PRIMARY_KEY, CACHE_KEY… */
const BENIGN_KEY_OWNERS = new Set([
  'primary',
  'foreign',
  'sort',
  'partition',
  'cache',
  'routing',
  'object',
  's3',
  'lookup',
  'map',
  'registry',
  'dedup',
  'unique',
  'composite',
  'natural',
  'surrogate',
  'index',
  'shard',
  'row',
  'column',
  'group',
  'feature',
  'translation',
  'message',
  'config',
  'hotkey',
  'shortcut',
  'gpg',
  'pgp',
  'kms',
  'customer',
  'idempotency',
]);

/** What kind of credential a key names, or null when it names none. */
export function classifyKey(key: string): KeyClass | null {
  const bare = key.replace(/^[-\s]+/, '');
  if (bare.length === 0 || bare.length > 100) return null;
  const words = keyWords(bare);
  if (words.length === 0) return null;
  const envStyle = /^[A-Z0-9_]+$/.test(bare) && bare.includes('_');
  for (let i = words.length - 1; i >= 0; i--) {
    const cls = wordClass(words[i]!, words[i - 1], envStyle, i === words.length - 1);
    if (!cls) continue;
    const before = words.slice(0, i);
    const after = words.slice(i + 1);
    if (after.some((w) => !TRAILING_OK.has(w) && !/^\d+$/.test(w))) return null;
    if (before.some((w) => LEADING_BAD.has(w))) return null;
    if (i > 0 && DISQUALIFYING.has(words[0]!) && LEADING_BAD.has(words[0]!)) return null;
    return cls;
  }
  return null;
}

/** A key that starts with one of these is about a credential, not one: checksum/secret, public_key, has_password. */
const LEADING_BAD = new Set([
  'checksum',
  'hash',
  'digest',
  'sha',
  'sha256',
  'sha1',
  'md5',
  'fingerprint',
  'public',
  'pub',
  'is',
  'has',
  'should',
  'use',
  'require',
  'requires',
  'allow',
  'enable',
  'enabled',
  'disable',
  'no',
  'skip',
  'show',
  'min',
  'max',
  'num',
  'csrf',
  'xsrf',
  'page',
  'next',
  'continue',
  'continuation',
  'existing',
  'last',
  'forgot',
  'reset',
  'change',
  'verify',
  'confirm',
  'new',
]);

const PLACEHOLDER_WORDS = new Set([
  'changeme',
  'changeit',
  'change',
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'test',
  'testing',
  'example',
  'sample',
  'dummy',
  'placeholder',
  'replaceme',
  'none',
  'null',
  'nil',
  'undefined',
  'empty',
  'true',
  'false',
  'yes',
  'no',
  'on',
  'off',
  'redacted',
  'hidden',
  'masked',
  'removed',
  'omitted',
  'sensitive',
  'notset',
  'unset',
  'todo',
  'tbd',
  'fixme',
  'na',
  'foo',
  'bar',
  'foobar',
  'mysecret',
  'mypassword',
  'default',
  'required',
  'optional',
  'string',
  'object',
  'value',
  'bearer',
  'basic',
]);

/**
 * A value that stands in for a secret instead of being one: empty, masked,
 * templated (${VAR}, {{ .Values.x }}, $(cmd)), a reference (a path, an ARN,
 * a secret manager name) or a stock placeholder word.
 */
export function isPlaceholder(raw: string): boolean {
  const v = raw.trim().replace(/^["'`]+|["'`,;]+$/g, '');
  if (v.length < 4) return true;
  if (/^[*xX#.•\-_=?<>]+$/.test(v) || /^(.)\1+$/.test(v)) return true;
  if (/^(?:\$\{|\$\(|\{\{|\$[A-Za-z_]|%[A-Za-z_]+%$|@[A-Za-z_]+@$|#\{|<%|\[\[|<[^>]*>?$|\[[A-Za-z _-]*\]$)/.test(v)) return true;
  if (/\{\{[^}]*\}\}|\$\{[^}]*\}/.test(v) && v.length < 120) return true;
  // kubectl describe: "<set to the key 'password' in secret 'db'>  Optional: false".
  if (/^<[^<>\n]{1,200}>/.test(v)) return true;
  if (/^(?:\/|\.\/|\.\.\/|~\/|file:|arn:aws:|projects\/[^/]+\/secrets\/|vault:|ref\+|op:\/\/|awssm:|gcpsm:|azkv:|kms:|secret:|env:|k8s:|sm:\/\/)/i.test(v))
    return true;
  if (/^https?:\/\/[^\s:@]+$/.test(v)) return true;
  if (/^[a-z]+:\/\/[^\s:@]+$/.test(v)) return true;
  const word = v.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (PLACEHOLDER_WORDS.has(word)) return true;
  if (/^(?:your|my|the|some|insert|enter|put|replace|example|sample|dummy|fake|xxx)[-_ ]?/i.test(v) && /^[A-Za-z _-]+$/.test(v)) return true;
  if (/(?:here|goes ?here|_here|-here)$/i.test(v) && /^[A-Za-z _-]+$/.test(v)) return true;
  if (/REDACTED|\bMASKED\b|\*{4,}|x{8,}|X{8,}/i.test(v) && !/[0-9]/.test(v.replace(/\*+/g, ''))) return true;
  if (/EXAMPLE(?:KEY)?$/.test(v)) return true;
  // Prose rather than a value: letters and spaces only, several words.
  if (/^[A-Za-z][A-Za-z ,.'()-]*$/.test(v) && v.trim().split(/\s+/).length >= 3) return true;
  return false;
}

/**
 * Whether a value found without structure (mid-line in a log) is random
 * enough to be a credential rather than a word: long enough, and either
 * mixed characters or high entropy.
 */
export function looksRandom(v: string): boolean {
  if (v.length < 8) return false;
  let classes = 0;
  if (/[a-z]/.test(v)) classes++;
  if (/[A-Z]/.test(v)) classes++;
  if (/[0-9]/.test(v)) classes++;
  if (/[^A-Za-z0-9]/.test(v)) classes++;
  if (/^[A-Za-z]+$/.test(v) && v.length < 24) return false;
  // Resource names and paths: kube-system/bootstrap-token-abcdef, web-7c9d8f6b5-x2x9z.
  if (/^[a-z0-9]+(?:[-./:][a-z0-9]+)+$/.test(v) && v.split(/[-./:]/).every((p) => p.length < 8 || /^[a-z]+$/.test(p))) return false;
  return classes >= 2 || v.length >= 20;
}
