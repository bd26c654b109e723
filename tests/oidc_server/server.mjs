#!/usr/bin/env node
// Loopback-only OAuth 2.0 authorization server for leakstop's test suite.
//
// It is panva's oidc-provider (certified, independently written) with the
// features leakstop talks to: client_credentials, RFC 7591 dynamic
// registration, RFC 7592 registration management, RFC 7009 revocation and
// RFC 7662 introspection. See README.md in this directory for the options and
// for the client_secret rotation policy on RFC 7592 PUT.
//
// stdout carries exactly one line, `LISTENING http://127.0.0.1:PORT`, once the
// socket is bound; everything else (library notices, --verbose events) goes
// to stderr.

import * as crypto from 'node:crypto';
import { parseArgs } from 'node:util';

const HOST = '127.0.0.1';

// ---------------------------------------------------------------- options --

function usage(message) {
  if (message) process.stderr.write(`server.mjs: ${message}\n`);
  process.stderr.write(`usage: node server.mjs [options]
  --port N                 port to bind on ${HOST} (env OIDC_PORT; default 0 = ephemeral)
  --secret-rotation MODE   keep | rotate (env OIDC_SECRET_ROTATION; default keep)
                             keep:   stock oidc-provider, RFC 7592 PUT never changes client_secret
                             rotate: a PUT that omits client_secret gets a NEW client_secret
  --initial-access-token T require "Authorization: Bearer T" on RFC 7591 registration
                           (env OIDC_INITIAL_ACCESS_TOKEN; default: open registration)
  --token-ttl SECONDS      lifetime of client_credentials access tokens (env OIDC_TOKEN_TTL; default 600)
  --exit-on-stdin-close    exit when stdin reaches EOF (env OIDC_EXIT_ON_STDIN_CLOSE=1)
  --verbose                log provider events to stderr (env OIDC_VERBOSE=1)
`);
  process.exit(message ? 2 : 0);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      'secret-rotation': { type: 'string' },
      'initial-access-token': { type: 'string' },
      'token-ttl': { type: 'string' },
      'exit-on-stdin-close': { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (err) {
  usage(err.message);
}
if (args.help) usage();

const env = process.env;
const truthy = (v) => v !== undefined && !['', '0', 'false', 'no'].includes(v.toLowerCase());

const port = Number(args.port ?? env.OIDC_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`invalid port: ${args.port ?? env.OIDC_PORT}`);

const secretRotation = (args['secret-rotation'] ?? env.OIDC_SECRET_ROTATION ?? 'keep').toLowerCase();
if (!['keep', 'rotate'].includes(secretRotation)) usage(`invalid --secret-rotation: ${secretRotation}`);

const initialAccessToken = args['initial-access-token'] ?? env.OIDC_INITIAL_ACCESS_TOKEN ?? '';

const tokenTtl = Number(args['token-ttl'] ?? env.OIDC_TOKEN_TTL ?? 600);
if (!Number.isSafeInteger(tokenTtl) || tokenTtl <= 0) usage(`invalid --token-ttl: ${args['token-ttl'] ?? env.OIDC_TOKEN_TTL}`);

const exitOnStdinClose = args['exit-on-stdin-close'] || truthy(env.OIDC_EXIT_ON_STDIN_CLOSE);
const verbose = args.verbose || truthy(env.OIDC_VERBOSE);

// ------------------------------------------------------------------ logs --
// oidc-provider prints notices with console.info (i.e. to stdout) -- e.g. the
// "unsupported runtime" notice on Node 20. Keep stdout for the LISTENING line
// only: send all console output to stderr, and drop the library's NOTICE
// lines unless --verbose.

const toStderr = (...parts) => process.stderr.write(`${parts.map(String).join(' ')}\n`);
console.log = toStderr;
console.info = (...parts) => {
  if (verbose || !String(parts[0]).includes('oidc-provider NOTICE')) toStderr(...parts);
};
console.warn = toStderr;
console.debug = verbose ? toStderr : () => {};

// Imported after the console is redirected (the module prints on import).
const { default: Provider, errors } = await import('oidc-provider');

// ------------------------------------------------------- storage adapter --
// The bundled memory adapter is an LRU capped at 1,000 entries; benchmarks
// register more clients than that. This one is unbounded; expired entries are
// dropped on access and by a periodic sweep.

const store = new Map(); // key -> { payload, expiresAt (ms epoch) | undefined }
const grantIndex = new Map(); // grantId -> Set(key)
const uidIndex = new Map(); // session uid -> id
const userCodeIndex = new Map(); // user code -> id

function liveEntry(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    dropKey(key);
    return undefined;
  }
  return entry;
}

function dropKey(key) {
  const entry = store.get(key);
  if (!entry) return;
  store.delete(key);
  const { payload } = entry;
  if (payload.grantId) {
    const members = grantIndex.get(payload.grantId);
    if (members) {
      members.delete(key);
      if (members.size === 0) grantIndex.delete(payload.grantId);
    }
  }
  if (payload.uid && uidIndex.get(payload.uid) === key) uidIndex.delete(payload.uid);
  if (payload.userCode && userCodeIndex.get(payload.userCode) === key) userCodeIndex.delete(payload.userCode);
}

const sweeper = setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) {
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) dropKey(key);
  }
}, 30_000);
sweeper.unref();

class UnboundedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    dropKey(key);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    store.set(key, { payload, expiresAt });
    if (payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
      grantIndex.get(payload.grantId).add(key);
    }
    if (payload.uid) uidIndex.set(payload.uid, key);
    if (payload.userCode) userCodeIndex.set(payload.userCode, key);
  }

  async find(id) {
    return liveEntry(this.key(id))?.payload;
  }

  async findByUid(uid) {
    const key = uidIndex.get(uid);
    return key ? liveEntry(key)?.payload : undefined;
  }

  async findByUserCode(userCode) {
    const key = userCodeIndex.get(userCode);
    return key ? liveEntry(key)?.payload : undefined;
  }

  async consume(id) {
    const entry = liveEntry(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    dropKey(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of [...(grantIndex.get(grantId) ?? [])]) dropKey(key);
    grantIndex.delete(grantId);
  }
}

// --------------------------------------------------------------- secrets --

function newClientSecret() {
  // Same shape as oidc-provider's default secretFactory (64 random bytes,
  // base64url); synchronous so it can be used from the metadata validator.
  return crypto.randomBytes(64).toString('base64url');
}

// oidc-provider has no hook for "rotate the secret on update": on PUT it
// copies the stored client_secret into the new metadata (and answers 400 if
// the body carries a client_secret different from the stored one). The one
// place where the final metadata of an update can be changed before it is
// stored and echoed back is the extraClientMetadata validator, which runs
// synchronously for every Client built from a request and may mutate the
// metadata. One (otherwise unused) extra property makes it run.
const ROTATION_MARKER_PROPERTY = 'leakstop_test_label';

function extraClientMetadataValidator(ctx, key, value, metadata) {
  if (key === ROTATION_MARKER_PROPERTY && value !== undefined && typeof value !== 'string') {
    throw new errors.InvalidClientMetadata(`${ROTATION_MARKER_PROPERTY} must be a string`);
  }
  if (
    secretRotation === 'rotate'
    && key === ROTATION_MARKER_PROPERTY
    && ctx?.oidc?.route === 'client_update'
    && ctx.oidc.body
    && !Object.hasOwn(ctx.oidc.body, 'client_secret')
    && metadata.client_secret
    // only the carried-over stored secret, never one oidc-provider just
    // generated because the client newly needs a secret
    && metadata.client_secret === ctx.oidc.client?.clientSecret
  ) {
    metadata.client_secret = newClientSecret();
    metadata.client_secret_expires_at = 0;
  }
}

// --------------------------------------------------------------- provider --

const signingKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'jwk' });

let issuer = `http://${HOST}:${port}`; // fixed up once the port is known

const configuration = {
  adapter: UnboundedMemoryAdapter,
  jwks: { keys: [{ ...signingKey, use: 'sig', alg: 'ES256', kid: 'leakstop-test-es256' }] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'],
    idTokenSigningAlgValues: ['ES256'],
  },
  clientDefaults: {
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  },
  scopes: ['openid', 'offline_access', 'read', 'write', 'admin'],
  clientBasedCORS: () => false,
  extraClientMetadata: {
    properties: [ROTATION_MARKER_PROPERTY],
    validator: extraClientMetadataValidator,
  },
  ttl: {
    ClientCredentials: () => tokenTtl,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // any authenticated confidential client may introspect (stock policy)
      allowedPolicy: async (ctx, client, token) => !(
        client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client.clientId
      ),
    },
    revocation: {
      enabled: true,
      // a client may revoke only its own tokens (stock policy)
      allowedPolicy: async (ctx, client, token) => {
        if (token.clientId !== client.clientId) {
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        }
        return true;
      },
    },
    registration: {
      enabled: true,
      initialAccessToken: initialAccessToken || false,
      issueRegistrationAccessToken: true,
      secretFactory: async () => newClientSecret(),
    },
    registrationManagement: {
      enabled: true,
      rotateRegistrationAccessToken: true,
    },
  },
};

// ---------------------------------------------------------------- server --

const { createServer } = await import('node:http');

const server = createServer();
// Long enough that HTTP clients, not the server, end idle keep-alive connections.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 70_000;

function shutdown(code = 0) {
  server.closeAllConnections?.();
  server.close();
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('SIGHUP', () => shutdown(0));

if (exitOnStdinClose) {
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('close', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}

// Orphan guard: if the parent process dies (ppid changes), stop.
const parentPid = process.ppid;
const parentWatch = setInterval(() => {
  if (process.ppid !== parentPid) shutdown(0);
}, 1_000);
parentWatch.unref();

server.on('error', (err) => {
  toStderr(`server.mjs: cannot listen on ${HOST}:${port}: ${err.message}`);
  process.exit(1);
});

server.listen(port, HOST, () => {
  const bound = server.address().port;
  issuer = `http://${HOST}:${bound}`;
  const provider = new Provider(issuer, configuration);
  provider.silent = !verbose; // koa: no stack traces for 5xx unless --verbose
  server.on('request', provider.callback());

  if (verbose) {
    for (const event of [
      'registration_create.success', 'registration_create.error',
      'registration_read.error', 'registration_update.success', 'registration_update.error',
      'registration_delete.success', 'registration_delete.error',
      'grant.success', 'grant.error', 'introspection.error', 'revocation.error', 'server_error',
    ]) {
      provider.on(event, (ctx, err) => {
        const detail = err instanceof Error ? ` ${err.name}: ${err.message} ${err.error_detail ?? ''}` : '';
        toStderr(`[oidc] ${event} ${ctx?.method ?? ''} ${ctx?.path ?? ''}${detail}`);
      });
    }
  }

  process.stdout.write(`LISTENING ${issuer}\n`);
  toStderr(`server.mjs: issuer ${issuer}, secret rotation ${secretRotation}, `
    + `registration ${initialAccessToken ? 'requires initial access token' : 'open'}, token ttl ${tokenTtl}s`);
});
