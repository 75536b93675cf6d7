// Fake credentials with the shapes (prefixes, lengths, alphabets, checksums)
// of the real ones, from a seeded generator: the corpus and the tests get the
// same values on every run, and none of them was ever issued by anyone.

import { crc32 } from 'node:zlib';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
export const ALNUM = UPPER + LOWER + DIGITS;
const BASE62 = DIGITS + UPPER + LOWER;
const HEX = '0123456789abcdef';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;
const BASE32 = `${UPPER}234567`;

/** A small, seeded PRNG (mulberry32): deterministic, not for anything real. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

function base62(n: number, width: number): string {
  let s = '';
  let v = n >>> 0;
  while (v > 0) {
    s = BASE62[v % 62] + s;
    v = Math.floor(v / 62);
  }
  return s.padStart(width, '0');
}

const pem = (label: string, body: string): string => {
  const lines = body.match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`].join('\n');
};

const b64url = (v: object | string): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Every fake, keyed by the corpus type it stands for. */
export function fakes(rng: Rng) {
  const r = rng;
  // GitHub and npm tokens end in the base62 CRC32 of their random part.
  const checksummed = (prefix: string) => {
    const body = r.chars(ALNUM, 30);
    return `${prefix}${body}${base62(crc32(body), 6)}`;
  };
  const derBody = (der: string, n: number) => der + Buffer.from(r.bytes(n)).toString('base64').replace(/=+$/, '');
  return {
    awsAccessKeyId: () => `${r.pick(['AKIA', 'ASIA'])}${r.chars(BASE32, 16)}`,
    awsSecretAccessKey: () => r.chars(B64, 40),
    githubPat: () => checksummed('ghp_'),
    githubOauth: () => checksummed(r.pick(['gho_', 'ghu_', 'ghs_'])),
    githubFineGrained: () => `github_pat_11${r.chars(BASE32, 20)}_${r.chars(ALNUM, 59)}`,
    gitlabPat: () => `glpat-${r.chars(`${ALNUM}_-`, 20)}`,
    gitlabPatRoutable: () => `glpat-${r.chars(B64URL, 36)}.01.${r.chars(LOWER + DIGITS, 9)}`,
    gitlabRunner: () => `glrt-t1_${r.chars(B64URL, 27)}.01.${r.chars(LOWER + DIGITS, 9)}`,
    slackBot: () => `xoxb-${r.chars(DIGITS, 12)}-${r.chars(DIGITS, 13)}-${r.chars(ALNUM, 24)}`,
    slackUser: () => `xoxp-${r.chars(DIGITS, 12)}-${r.chars(DIGITS, 12)}-${r.chars(DIGITS, 13)}-${r.chars(HEX, 32)}`,
    slackWebhook: () => `https://hooks.slack.com/services/T${r.chars(UPPER + DIGITS, 10)}/B${r.chars(UPPER + DIGITS, 10)}/${r.chars(ALNUM, 24)}`,
    stripeSecret: () => `sk_live_51${r.chars(ALNUM, 97)}`,
    stripeRestricted: () => `rk_live_51${r.chars(ALNUM, 97)}`,
    stripeTest: () => `sk_test_${r.chars(ALNUM, 24)}`,
    openaiProject: () => `sk-proj-${r.chars(B64URL, 74)}T3BlbkFJ${r.chars(B64URL, 74)}`,
    openaiLegacy: () => `sk-${r.chars(ALNUM, 20)}T3BlbkFJ${r.chars(ALNUM, 20)}`,
    anthropic: () => `sk-ant-api03-${r.chars(B64URL, 93)}AA`,
    gcpApiKey: () => `AIza${r.chars(B64URL, 35)}`,
    azureStorageKey: () => `${r.chars(B64, 86)}==`,
    azureAdClientSecret: () => `${r.chars(ALNUM, 3)}${r.chars(DIGITS, 1)}Q~${r.chars(`${ALNUM}_~.-`, 34)}`,
    npmToken: () => checksummed('npm_'),
    pypiToken: () => `pypi-AgEIcHlwaS5vcmc${r.chars(B64URL, 160)}`,
    huggingface: () => `hf_${r.chars(UPPER + LOWER, 34)}`,
    sendgrid: () => `SG.${r.chars(B64URL, 22)}.${r.chars(B64URL, 43)}`,
    digitalocean: () => `dop_v1_${r.chars(HEX, 64)}`,
    vault: () => `hvs.CAESI${r.chars(B64URL, 86)}`,
    databricks: () => `dapi${r.chars(HEX, 32)}`,
    dockerHubPat: () => `dckr_pat_${r.chars(B64URL, 27)}`,
    twilioKey: () => `SK${r.chars(HEX, 32)}`,
    shopify: () => `shpat_${r.chars(HEX, 32)}`,
    rsaKey: () => pem('RSA PRIVATE KEY', derBody('MIIEowIBAAKCAQEA', 1180)),
    ecKey: () => pem('EC PRIVATE KEY', derBody('MHcCAQEEI', 112)),
    pkcs8Key: () => pem('PRIVATE KEY', derBody('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ', 1180)),
    opensshKey: () => pem('OPENSSH PRIVATE KEY', derBody('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', 300)),
    jwt: () =>
      `${b64url({ alg: 'RS256', typ: 'JWT', kid: r.chars(HEX, 16) })}.${b64url({
        iss: 'https://login.example-idp.com/',
        sub: `user-${r.chars(DIGITS, 8)}`,
        aud: 'orders-api',
        exp: 1893456000,
      })}.${r.chars(B64URL, 342)}`,
    saToken: (namespace: string, name: string) =>
      `${b64url({ alg: 'RS256', kid: r.chars(B64URL, 43) })}.${b64url({
        aud: ['https://kubernetes.default.svc.cluster.local'],
        exp: 1893456000,
        iat: 1861920000,
        iss: 'https://kubernetes.default.svc.cluster.local',
        'kubernetes.io': { namespace, serviceaccount: { name, uid: uuid(r) } },
        sub: `system:serviceaccount:${namespace}:${name}`,
      })}.${r.chars(B64URL, 342)}`,
    legacySaToken: (namespace: string, name: string) =>
      `${b64url({ alg: 'RS256', kid: r.chars(B64URL, 43) })}.${b64url({
        iss: 'kubernetes/serviceaccount',
        'kubernetes.io/serviceaccount/namespace': namespace,
        'kubernetes.io/serviceaccount/secret.name': `${name}-token-${r.chars(LOWER + DIGITS, 5)}`,
        'kubernetes.io/serviceaccount/service-account.name': name,
        sub: `system:serviceaccount:${namespace}:${name}`,
      })}.${r.chars(B64URL, 342)}`,
    openshiftToken: () => `sha256~${r.chars(B64URL, 43)}`,
    bootstrapToken: () => `${r.chars(LOWER + DIGITS, 6)}.${r.chars(LOWER + DIGITS, 16)}`,
    certificateKey: () => r.chars(HEX, 64),
    opaqueToken: (n = 48) => r.chars(ALNUM, n),
    hexToken: (n = 40) => r.chars(HEX, n),
    /** A password a person would choose: words, digits, a symbol. */
    password: () =>
      `${r.pick(['Summer', 'Winter', 'Harbor', 'Maple', 'Orbit', 'Falcon', 'Cobalt'])}${r.chars(DIGITS, 4)}${r.pick(['!', '#', '$', '%', '&', '*', '@', '.'])}${r.pick(['blue', 'Prod', 'kube', 'db', 'x'])}`,
    /** A generated password (openssl rand -base64 18 and the like). */
    strongPassword: () => r.chars(`${ALNUM}!#%^*-_=+`, 20),
    uuid: () => uuid(r),
    hex: (n: number) => r.chars(HEX, n),
    alnum: (n: number) => r.chars(ALNUM, n),
    lower: (n: number) => r.chars(LOWER + DIGITS, n),
  };
}

function uuid(r: Rng): string {
  const h = r.chars(HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export type Fakes = ReturnType<typeof fakes>;
