// Package testenv starts real servers for funcify's tests, each on free
// loopback ports, and stops them when the test ends.
//
// The AWS Lambda Runtime Interface Emulator (RIE) runs a function binary
// behind the same Runtime API that Lambda serves and exposes an HTTP endpoint
// to invoke it:
//
//	func TestEcho(t *testing.T) {
//		bin := testenv.BuildFunction(t, "./testdata/echo")
//		url := testenv.RIE(t, bin)
//		resp, err := http.Post(url, "application/json", strings.NewReader(`{"a":1}`))
//		...
//	}
//
// A Redis server ([Redis], or [StartRedis] for a server that the test can
// stop midway) keeps its data in memory only:
//
//	addr := testenv.Redis(t)
//	rdb := redis.NewClient(&redis.Options{Addr: addr})
//
// dynalite, a DynamoDB implementation on Node.js ([Dynalite], or
// [StartDynalite] for one that the test can stop midway), keeps its tables in
// memory only; [DynamoDBClient] builds an SDK client for it:
//
//	db := testenv.DynamoDBClient(testenv.Dynalite(t))
//
// oidc-provider, a certified OpenID provider on Node.js ([StartOIDC]), issues
// RS256 JWT access tokens through the client-credentials grant, for one
// audience and its scopes, with the issuer http://127.0.0.1:PORT; like
// dynalite it is the version pinned in its folder, internal/testenv/oidc,
// installed there by [OIDCInstall] and found from the module root:
//
//	idp := testenv.StartOIDC(t) // idp.Issuer, idp.JWKSURL, idp.Audience
//	tok := idp.Token(t, "orders:order:read") // scope "orders:order:read"
//
// # Missing servers: skip or fail
//
// A server that is not installed makes the test skip, and the skip message
// holds the exact command that installs it. When the environment variable
// FUNCIFY_REQUIRE_SERVERS is true (1, t, true; see [RequireServers]), the
// same test fails instead: CI sets it, so a machine without the servers can
// never pass by skipping. scripts/test installs every server the tests need
// and sets FUNCIFY_REQUIRE_SERVERS=1 when CI=true.
//
// # Where servers are looked for
//
// A server's executable is looked up in PATH, then in the directory where
// `go install` puts binaries ($GOBIN, else $(go env GOPATH)/bin), so a tool
// installed with `go install` is found even when that directory is not in
// PATH.
// dynalite is the exception: it is the version pinned in
// internal/testenv/dynalite, installed there by [DynaliteInstall] and found
// from the module root, and it runs on the node in PATH.
//
// # Lifetime and concurrency
//
// A server lives as long as the test that started it: a t.Cleanup kills it
// and every process it started, and logs its output if the test failed.
// Each server gets ports of its own, so tests that start servers may run in
// parallel, and every function here is safe to call from parallel tests. A
// server itself may be less tolerant: the emulator serves one invocation at a
// time (see [RIE]).
//
// The servers run on Linux only (the emulator is a Linux program and the
// function binaries are built for Linux); elsewhere the tests skip, or fail
// under FUNCIFY_REQUIRE_SERVERS.
package testenv
