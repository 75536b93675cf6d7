// Test support: a client-certificate CA and certificates from it (and one
// from a CA nobody trusts), made with the openssl CLI, as cluster-up.sh makes
// the API server's webhook client certificate.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ClientCert {
  cert: Buffer;
  key: Buffer;
}

export interface ClientCerts {
  /** The CA the gateway trusts for webhook callers. */
  caFile: string;
  /** A certificate from that CA per common name asked for. */
  byName: Record<string, ClientCert>;
  /** A certificate with the first name, from a CA the gateway does not trust. */
  stranger: ClientCert;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function ca(dir: string, name: string): { crt: string; key: string } {
  const crt = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    crt,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { crt, key };
}

function issue(dir: string, signer: { crt: string; key: string }, cn: string, file: string): ClientCert {
  const key = path.join(dir, `${file}.key`);
  const csr = path.join(dir, `${file}.csr`);
  const crt = path.join(dir, `${file}.crt`);
  const ext = path.join(dir, `${file}.ext`);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  openssl(['x509', '-req', '-in', csr, '-CA', signer.crt, '-CAkey', signer.key, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', crt]);
  return { cert: readFileSync(crt), key: readFileSync(key) };
}

export function makeClientCerts(dir: string, names: readonly string[]): ClientCerts {
  mkdirSync(dir, { recursive: true });
  const trusted = ca(dir, 'webhook-client-ca');
  const other = ca(dir, 'stranger-ca');
  const byName: Record<string, ClientCert> = {};
  names.forEach((n, i) => {
    byName[n] = issue(dir, trusted, n, `client-${i}`);
  });
  return { caFile: trusted.crt, byName, stranger: issue(dir, other, names[0] ?? 'stranger', 'stranger') };
}
