import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

/** The only algorithm the development issuer signs and accepts: the one Entra uses. */
export const DEV_SIGNING_ALGORITHM = 'RS256';

/** The development signing key as read from its file. */
export interface DevSigningKey {
  /** The RFC 7638 thumbprint of the public key; the `kid` of every token signed with it. */
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

interface KeyFileContent {
  version: 1;
  createdAt: string;
  privateJwk: JWK;
}

const RSA_PRIVATE_MEMBERS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/**
 * Reads the development signing key from `keyFile`, creating it (RSA 2048, mode 0600, in a 0700 directory)
 * when absent. Creation is atomic and never overwrites: when two processes (the host and `npm run token`)
 * race, both end up with the key that was linked into place first.
 */
export async function loadOrCreateSigningKey(keyFile: string): Promise<DevSigningKey> {
  const existing = await readSigningKey(keyFile);
  if (existing) return existing;
  const { privateKey } = await generateKeyPair(DEV_SIGNING_ALGORITHM, { extractable: true, modulusLength: 2048 });
  const privateJwk = await exportJWK(privateKey);
  const content: KeyFileContent = { version: 1, createdAt: new Date().toISOString(), privateJwk };
  await fs.mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  const temporary = `${keyFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  try {
    await fs.chmod(temporary, 0o600);
    await fs.link(temporary, keyFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await fs.rm(temporary, { force: true });
  }
  const created = await readSigningKey(keyFile);
  if (!created) throw new Error(`The development signing key file ${keyFile} vanished while it was being created.`);
  return created;
}

/**
 * Reads the development signing key, or returns undefined when the file does not exist.
 * @throws Error when the file exists but does not hold an RSA private key.
 */
export async function readSigningKey(keyFile: string): Promise<DevSigningKey | undefined> {
  let text: string;
  try {
    text = await fs.readFile(keyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let content: Partial<KeyFileContent>;
  try {
    content = JSON.parse(text) as Partial<KeyFileContent>;
  } catch {
    throw new Error(`The development signing key file ${keyFile} is not JSON; delete it to create a new key.`);
  }
  const jwk = content.privateJwk;
  if (!jwk || jwk.kty !== 'RSA' || RSA_PRIVATE_MEMBERS.some((member) => typeof jwk[member] !== 'string')) {
    throw new Error(`The development signing key file ${keyFile} holds no RSA private key; delete it to create a new key.`);
  }
  const publicJwk: JWK = { kty: 'RSA', n: jwk.n!, e: jwk.e! };
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return {
    kid,
    privateJwk: { ...jwk, alg: DEV_SIGNING_ALGORITHM, kid },
    publicJwk: { ...publicJwk, alg: DEV_SIGNING_ALGORITHM, use: 'sig', kid },
  };
}

/** Imports the private half for signing. */
export async function importPrivateKey(key: DevSigningKey): Promise<CryptoKey> {
  return (await importJWK(key.privateJwk, DEV_SIGNING_ALGORITHM)) as CryptoKey;
}

/** Imports the public half for verifying. */
export async function importPublicKey(key: DevSigningKey): Promise<CryptoKey> {
  return (await importJWK(key.publicJwk, DEV_SIGNING_ALGORITHM)) as CryptoKey;
}
