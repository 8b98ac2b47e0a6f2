/** API-key authentication: `Authorization: Bearer <key>`, compared in constant time against hashed keys. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Tenant } from './tenants';

export class AuthError extends Error {
  constructor(message: string, readonly status = 401) {
    super(message);
  }
}

export class Authenticator {
  private readonly byHash = new Map<string, Tenant>();

  constructor(tenants: Tenant[]) {
    for (const tenant of tenants) this.byHash.set(hashKey(tenant.apiKey), tenant);
  }

  authenticate(authorization: string | undefined): Tenant {
    if (!authorization) throw new AuthError('missing Authorization header (Bearer <api key>)');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw new AuthError('the Authorization header must be "Bearer <api key>"');
    const presented = hashKey(match[1]!);
    const tenant = this.byHash.get(presented);
    // The map lookup is by hash already; compare again in constant time so timing says nothing about keys.
    if (!tenant || !timingSafeEqual(Buffer.from(presented, 'hex'), Buffer.from(hashKey(tenant.apiKey), 'hex'))) {
      throw new AuthError('unknown API key');
    }
    return tenant;
  }
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
