// server.mjs runs oidc-provider for funcify's tests (internal/testenv/oidc.go).
//
// It takes one JSON object, from the first argument or else from the
// environment variable FUNCIFY_OIDC_CONFIG:
//
//   {
//     "port": 41234,                       // required; binds 127.0.0.1 only
//     "audience": "https://orders.example",
//     "scopes": ["orders:order:read", "orders:order:write"],
//     "accessTokenTTL": 600,               // seconds
//     "clients": [{"client_id": "...", "client_secret": "...", "scope": "..."}]
//   }
//
// The issuer is exactly http://127.0.0.1:PORT. Clients may use only the
// client-credentials grant, authenticating with client_secret_basic or
// client_secret_post. A client's optional "scope" limits which of "scopes" it
// may ask for (asking for another is invalid_scope); without it, a client may
// ask for any of them. Every access token is an RS256 JWT for "audience",
// signed with a 2048-bit RSA key generated at start and published at the
// jwks_uri; a token request without a resource parameter gets the audience
// too.
import * as crypto from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

function fail(msg) {
  process.stderr.write(`oidc server: ${msg}\n`);
  process.exit(2);
}

let config;
try {
  config = JSON.parse(process.argv[2] ?? process.env.FUNCIFY_OIDC_CONFIG ?? '');
} catch (err) {
  fail(`want a JSON config as the first argument or in FUNCIFY_OIDC_CONFIG: ${err.message}`);
}

const port = config.port;
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`bad port ${port}`);
const audience = config.audience ?? 'https://orders.example';
const scopes = config.scopes ?? ['orders:order:read', 'orders:order:write'];
const accessTokenTTL = config.accessTokenTTL ?? 600;
if (!Array.isArray(config.clients) || config.clients.length === 0) fail('no clients');

const issuer = `http://127.0.0.1:${port}`;

// The signing key: RSA 2048, its kid the RFC 7638 thumbprint of the public key.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = privateKey.export({ format: 'jwk' });
jwk.kid = crypto
  .createHash('sha256')
  .update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n }))
  .digest('base64url');
jwk.alg = 'RS256';
jwk.use = 'sig';

const clients = config.clients.map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
  ...(c.scope ? { scope: c.scope } : {}),
}));

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [jwk] },
  // The audience's scopes are provider scopes too, so that a client's
  // "scope" metadata can limit them.
  scopes: ['openid', 'offline_access', ...scopes],
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => audience,
      getResourceServerInfo: async (_ctx, resourceIndicator) => {
        if (resourceIndicator !== audience) {
          throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
        }
        return {
          audience,
          scope: scopes.join(' '),
          accessTokenTTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  ttl: {
    AccessToken: accessTokenTTL,
    ClientCredentials: accessTokenTTL,
  },
});

// A token request that fails says why on stderr, which the harness shows
// when a test fails.
provider.on('grant.error', (_ctx, err) => {
  process.stderr.write(`oidc server: grant error: ${err.message} ${err.error_description ?? ''}\n`);
});
provider.on('server_error', (_ctx, err) => {
  process.stderr.write(`oidc server: server error: ${err.stack}\n`);
});

const server = provider.listen(port, '127.0.0.1');
server.on('error', (err) => fail(`listen: ${err.code ?? ''} ${err.message}`));
server.on('listening', () => process.stdout.write(`oidc server: ${issuer} ready\n`));
