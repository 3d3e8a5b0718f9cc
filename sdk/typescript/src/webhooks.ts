/**
 * Verify a Ringside webhook delivery (API.md "Webhooks" → Signatures), with node:crypto.
 *
 * Ringside signs every attempt twice: `X-FC-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`
 * (keyed with the whole `whsec_…` string, newest secret only) and the Standard Webhooks headers
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …`, keyed with the base64-decoded
 * part after `whsec_`, one signature per live secret). Given the request's headers, `verify` accepts
 * when either verifies, so a receiver on the old secret survives a rotation. Every failure throws
 * `SignatureVerificationError`: it never returns false, so a forgotten `if` cannot accept a forgery.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import { SignatureVerificationError } from './errors.js';

export const DEFAULT_TOLERANCE_S = 300;
const MAX_HEADER_LENGTH = 8192;

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** The replay window in seconds, both ways (default 300). */
  toleranceS?: number;
  /** "Now" in unix seconds (for tests). */
  now?: number;
}

function lowerCased(headers: HeaderBag): Map<string, string> {
  const found = new Map<string, string>();
  const entries: Iterable<[string, string | string[] | undefined]> =
    headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [name, value] of entries) {
    if (value !== undefined) found.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
  }
  return found;
}

function sameBytes(expected: Buffer, given: string): boolean {
  const candidate = Buffer.from(given, 'utf8');
  // timingSafeEqual needs equal lengths; the length of a well-formed signature is public anyway
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

function timestamp(text: string | undefined, now: number, toleranceS: number): number {
  if (text === undefined || !/^[0-9]{1,12}$/.test(text)) throw new SignatureVerificationError('the timestamp is not unix seconds');
  const stamp = Number(text);
  if (Math.abs(now - stamp) > toleranceS) {
    throw new SignatureVerificationError(`the timestamp is outside the ${toleranceS} s tolerance (a replay?)`);
  }
  return stamp;
}

function verifyFc(header: string, body: Buffer, secrets: string[], now: number, toleranceS: number): void {
  if (header.length > MAX_HEADER_LENGTH) throw new SignatureVerificationError('the header is too long');
  const parts = header.split(',').map((part) => {
    const at = part.indexOf('=');
    return at < 0 ? [part.trim(), ''] : [part.slice(0, at).trim(), part.slice(at + 1).trim()];
  });
  const stamps = parts.filter(([key]) => key === 't').map(([, value]) => value);
  const given = parts.filter(([key]) => key === 'v1').map(([, value]) => value ?? '');
  if (stamps.length !== 1 || given.length === 0) throw new SignatureVerificationError('expected t=<unix>,v1=<hex>');
  const stamp = timestamp(stamps[0], now, toleranceS);
  const signed = Buffer.concat([Buffer.from(`${stamp}.`), body]);
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', secret).update(signed).digest('hex'));
    if (given.map((value) => sameBytes(expected, value)).some(Boolean)) return;
  }
  throw new SignatureVerificationError('no v1 signature matches the payload and secret');
}

function standardKey(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new SignatureVerificationError('the secret is not whsec_ + base64');
  return Buffer.from(encoded, 'base64');
}

function verifyStandard(headers: Map<string, string>, body: Buffer, secrets: string[], now: number, toleranceS: number): void {
  const messageId = headers.get('webhook-id') ?? '';
  const listed = headers.get('webhook-signature') ?? '';
  if (!messageId || messageId.length > 256 || listed.length > MAX_HEADER_LENGTH) {
    throw new SignatureVerificationError('webhook-id is missing or a header is too long');
  }
  const stamp = timestamp(headers.get('webhook-timestamp'), now, toleranceS);
  const given = listed
    .split(/\s+/)
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice(3));
  const signed = Buffer.concat([Buffer.from(`${messageId}.${stamp}.`), body]);
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', standardKey(secret)).update(signed).digest('base64'));
    if (given.map((value) => sameBytes(expected, value)).some(Boolean)) return;
  }
  throw new SignatureVerificationError('no v1 signature matches the payload and secret');
}

/**
 * Check that `payload` (the raw request body, exactly as received) was signed by Ringside.
 * `signature` is the `X-FC-Signature` value or the request's headers; `secret` the endpoint's
 * `whsec_…` secret, or several around a rotation. Returns true; throws otherwise.
 */
export function verify(
  payload: string | Uint8Array,
  signature: string | HeaderBag,
  secret: string | string[],
  options: VerifyOptions = {},
): true {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const secrets = typeof secret === 'string' ? [secret] : [...secret];
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new SignatureVerificationError('no webhook secret given');
  }
  const now = options.now ?? Date.now() / 1000;
  const toleranceS = options.toleranceS ?? DEFAULT_TOLERANCE_S;
  if (typeof signature === 'string') {
    verifyFc(signature, body, secrets, now, toleranceS);
    return true;
  }
  const headers = lowerCased(signature);
  const failures: string[] = [];
  const fc = headers.get('x-fc-signature');
  if (fc !== undefined) {
    try {
      verifyFc(fc, body, secrets, now, toleranceS);
      return true;
    } catch (failure) {
      failures.push(`X-FC-Signature: ${(failure as Error).message}`);
    }
  }
  if (headers.has('webhook-signature')) {
    try {
      verifyStandard(headers, body, secrets, now, toleranceS);
      return true;
    } catch (failure) {
      failures.push(`webhook-signature: ${(failure as Error).message}`);
    }
  }
  throw new SignatureVerificationError(failures.length ? failures.join('; ') : 'no X-FC-Signature or webhook-signature header');
}
