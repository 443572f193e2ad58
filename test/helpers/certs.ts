/**
 * Test certificates made at test time with the openssl CLI in a temporary directory: one CA, then leaf
 * certificates it signs (server certificates with DNS SANs, client certificates with SPIFFE URI SANs).
 * EC P-256 keys keep generation fast. `cleanup()` removes the directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestCa extends CertFiles {
  readonly dir: string;
  /** A leaf signed by this CA; `sans` in openssl's syntax: ['DNS:a.example.com', 'URI:spiffe://cluster.local/ns/x/sa/y']. */
  issue(name: string, cn: string, sans: readonly string[], usage?: 'server' | 'client'): CertFiles;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

function files(dir: string, name: string): CertFiles {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

/** A fresh CA (`cn` its subject) in a new temporary directory. */
export function createTestCa(cn = 'Skiff Test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-certs-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${cn}`, '-keyout', 'ca.key', '-out', 'ca.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const ca = files(dir, 'ca');
  let serial = 1;
  return {
    ...ca,
    dir,
    issue(name: string, subject: string, sans: readonly string[], usage: 'server' | 'client' = 'server'): CertFiles {
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${subject}`,
        '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
      const ext = [
        'basicConstraints=CA:FALSE',
        `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
        ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
      ].join('\n');
      writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial++),
        '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
      return files(dir, name);
    },
    cleanup(): void { rmSync(dir, { recursive: true, force: true }); },
  };
}
