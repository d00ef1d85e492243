// Package fakeruntime is an in-process Lambda Runtime API (2018-06-01) and
// Extensions API (2020-01-01) on a loopback port, for tests: it hands out
// invocations the test enqueues, records every request it receives
// byte-exactly, and misbehaves on demand.
//
// A test starts a server, points a runtime loop at it (in-process, or a
// function binary run as a subprocess with AWS_LAMBDA_RUNTIME_API set to
// [Server.Addr]), enqueues invocations and waits for what the function posts
// back:
//
//	s := fakeruntime.Start(t)
//	cmd := exec.Command(bin)
//	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + s.Addr()}
//	...
//	id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`{"a":1}`)})
//	res := s.Wait(t, id) // the POST of .../response or .../error for id
//	if res.Error || string(res.Body) != `{"a":1}` { ... }
//
// # Protocol
//
// The server speaks HTTP/1.1 itself, on raw connections, so that it can
// record requests as they came on the wire ([Request.Raw]) and answer in
// ways net/http's server never would. It keeps connections alive, reads
// bodies with Content-Length or chunked transfer coding (chunk extensions
// and trailers included), answers Expect: 100-continue, and is strict where
// a real server is: a line not ended by CRLF, an HTTP/1.1 request without
// Host, Transfer-Encoding together with Content-Length, or a malformed chunk
// gets 400 and the connection is closed; such a request is recorded with
// [Request.Err] saying why.
//
// The Runtime API:
//
//   - GET /2018-06-01/runtime/invocation/next waits for an enqueued
//     invocation (or for [Server.Close]) and answers 200 with its payload and
//     the Lambda-Runtime-* headers. Several connections may wait at once
//     (AWS_LAMBDA_MAX_CONCURRENCY loops); each invocation goes to exactly one
//     of them, and never to a connection its client has closed. The answer
//     is the same from any server for an invocation with its request id and
//     deadline set (but for the Date header), for differential tests.
//   - POST /2018-06-01/runtime/invocation/{id}/response and .../error answer
//     202 {"status":"OK"}; an id never handed out gets 400 (InvalidRequestID),
//     a second POST for an id whose first was accepted gets 403
//     (InvalidStateTransition). A POST answered with a non-2xx status leaves
//     the invocation open, so the function may post again.
//   - POST /2018-06-01/runtime/init/error answers 202.
//
// The Extensions API:
//
//   - POST /2020-01-01/extension/register with Lambda-Extension-Name and a
//     body {"events":[...]} answers 200 with a Lambda-Extension-Identifier.
//   - GET /2020-01-01/extension/event/next with that identifier never answers
//     an extension registered for no events (the way aws-lambda-go enables
//     SIGTERM); one registered for SHUTDOWN gets a SHUTDOWN event once the
//     test calls [Server.Shutdown]. INVOKE events are never sent.
//
// Any other path gets 404, a known path with the wrong method 405; both are
// recorded.
//
// # Misbehaviour
//
// The fields of [Invocation] choose, per invocation, how its next is
// answered (extra, missing or malformed headers, a chunked or
// close-delimited body, a status other than 200, the connection closed
// afterwards) and how the function's POST for it is answered (a status such
// as 413, a body limit, the connection closed afterwards, with or without
// Connection: close). [Server.SetRegisterStatus] makes extension
// registration fail, and [Server.CloseAfterRegister] closes the connection
// after it.
//
// # Waiting
//
// [Server.Wait], [Server.WaitNext], [Server.InitError], [Server.WaitConnClosed]
// and [Server.WaitFor] block until what they wait for has happened, or fail
// the test after [WaitTimeout]; they never sleep. Call them from the test's
// own goroutine, since they may call t.Fatalf.
//
// # Concurrency
//
// Every method of [Server] is safe to call from several goroutines at once.
// The requests returned by [Server.Requests] and the waits share their byte
// slices and headers with the server's record: read them, do not modify them.
package fakeruntime
