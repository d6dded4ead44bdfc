/**
 * The estate's certificates, made at start by Debian `openssl` as a child process (Node's crypto
 * parses X.509 but cannot sign one): a private CA, one certificate per HTTPS service naming its DNS
 * name and 127.0.0.1, and one that expires in days, the fault a tls check must warn about. P-256
 * keys, so the whole set takes a fraction of a second. Nothing stays on disk after start.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A key and certificate in PEM, as Node's https server takes them. */
export interface KeyPair {
  key: string;
  cert: string;
}

export interface EstateCertificates {
  /** The private CA's certificate: what the checks trust instead of turning verification off. */
  ca: string;
  /** One pair per DNS name asked for. */
  leaves: Map<string, KeyPair>;
  /** Per name asked for as expiring: the same names, valid for `expiringDays` only. */
  expiring: Map<string, KeyPair>;
}

// The config's own sections, so nothing depends on the host's openssl.cnf (Debian's makes every
// `req -x509` certificate a CA).
const CONFIG = `[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new Error(missing ? 'openssl not found: the simulated services need Debian package "openssl" for their certificates' : `openssl ${args[0]} failed: ${stderr || err.message}`));
    });
  });
}

/**
 * Makes the CA, a certificate for each of `names` (valid `validDays`, default 397, the CA/Browser
 * Forum's maximum) and, for each of `expiringNames`, one valid `expiringDays` from now.
 */
export async function makeEstateCertificates(o: { names: readonly string[]; expiringNames?: readonly string[]; expiringDays: number; validDays?: number; organization?: string }): Promise<EstateCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'wf-services-pki-'));
  try {
    const f = (n: string): string => join(dir, n);
    await writeFile(f('openssl.cnf'), CONFIG);
    const org = o.organization ?? 'Watchfloor simulated estate';
    const base = ['req', '-x509', '-utf8', '-config', f('openssl.cnf')];
    await openssl([...base, '-extensions', 'ca_ext', ...EC, '-days', '3650', '-subj', `/O=${org}/CN=${org} private CA`, '-keyout', f('ca.key'), '-out', f('ca.crt')]);
    const leaf = async (name: string, file: string, days: number): Promise<KeyPair> => {
      await openssl([...base, '-extensions', 'leaf_ext', '-CA', f('ca.crt'), '-CAkey', f('ca.key'), ...EC, '-days', String(days), '-subj', `/O=${org}/CN=${name}`, '-addext', `subjectAltName=DNS:${name},IP:127.0.0.1`, '-keyout', f(`${file}.key`), '-out', f(`${file}.crt`)]);
      return { key: await readFile(f(`${file}.key`), 'utf8'), cert: await readFile(f(`${file}.crt`), 'utf8') };
    };
    const leaves = new Map<string, KeyPair>();
    const expiring = new Map<string, KeyPair>();
    await Promise.all([
      ...o.names.map(async (name, i) => leaves.set(name, await leaf(name, `leaf-${i}`, o.validDays ?? 397))),
      ...(o.expiringNames ?? []).map(async (name, i) => expiring.set(name, await leaf(name, `expiring-${i}`, o.expiringDays))),
    ]);
    return { ca: await readFile(f('ca.crt'), 'utf8'), leaves, expiring };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
