// Package ssmstore is a [store.Store] on AWS Systems Manager Parameter
// Store, for state that a few keys hold and that changes rarely, such as the
// service token that package token shares between instances. A function
// that already reads its configuration from Parameter Store needs no table.
//
//	api, err := ssmparam.DefaultAPI(ctx)
//	if err != nil {
//		return err
//	}
//	s := ssmstore.New(api, "/orders/prod/state")
//
// ssmparam.DefaultAPI is the process's SSM client, shared with package
// ssmparam; any *ssm.Client will do.
//
// Each key is one parameter, prefix + "/" + the key escaped: every byte
// other than letters, digits, '.' and '-' becomes _XX in hex, so
// "token/https://idp" is /orders/prod/state/token_2fhttps_3a_2f_2fidp. The
// parameter's value is a small JSON envelope holding the value, its expiry
// and the version it was written over. SecureString by default ([WithType]
// for String).
//
// # Sizes
//
// A value is kept in the envelope in base64, at four thirds of its size,
// whenever that fits the tier: every version of this package reads it. A
// value too large for that which is valid UTF-8 (JSON, for instance) is kept
// as a JSON string instead, at its own size plus its escapes. The Standard
// tier's 4 KB then fit a value of about 2.9 KB, or a text value of about
// 4,000 bytes; [WithTier] gives the 8 KB of the Advanced tier (about 6 KB,
// or 8,100 bytes of text). A value that does not fit its tier is refused
// with [ErrTooLarge] before any request, rather than by SSM after the read.
//
// For the token of package token, whose record holds the provider's whole
// token response, that is an access token of about 3.7 KB on the Standard
// tier, or 2.7 KB with token.Config.EncryptionKey (the sealed token is
// base64 in the record); on the Advanced tier about 7.8 KB, or 5.8 KB
// sealed. A larger token is refused, and package token then serves it from
// memory and says so once in its log.
//
// Versions of this package before text values wrote and read every value in
// base64 only: their envelopes are read as before, and they read every value
// written since that they could have held themselves, so that a fleet
// running both versions during a deploy or a rollback shares its items
// (package token's lease and token, a breaker's state). Only a text value
// too large for base64 in the tier is written as text, which they read as
// an empty value; they could not have written it at all.
//
// # Compare-and-set on a service with no conditional write
//
// PutParameter has no condition besides Overwrite=false (create if absent),
// so a write cannot be refused because the parameter changed. What SSM does
// give is an order: every PutParameter of a parameter gets the next version
// number, atomically, and returns it, and every version stays readable
// (GetParameter "name:version") among the last 100. ssmstore builds
// compare-and-set on that order, as a log:
//
//   - Every write records in its envelope the version it read, its base b.
//   - A write that SSM numbered N is valid when b = N-1, that is when no
//     other write came between the writer's read and its own. Otherwise it
//     is void: it is in the parameter's history, but it changes nothing.
//   - The item is the latest valid write; its [store.Item.Version] is the
//     parameter's latest version number, even when that write is void.
//   - CompareAndSet(v) reads the parameter, returns [store.ErrConflict] if
//     its version is not v (or, for v = 0, if the item is present), else
//     writes with b = v: it succeeds exactly when SSM numbers the write v+1.
//
// So of writers racing from one version exactly one succeeds, the others
// get ErrConflict, and no update is lost: the compare-and-set is atomic,
// decided by SSM's version counter rather than by a read. What it costs:
//
//   - A losing write is still a write: it takes a version, so the next
//     reader's version changes although the value did not (a spurious
//     conflict at worst), and a Get that finds a void write reads older
//     versions until it finds a valid one, one GetParameter each.
//   - SSM keeps 100 versions. If more than 99 writes in a row are void, Get
//     cannot find the value and returns an error rather than a wrong value.
//   - When the SDK retries a PutParameter whose first try succeeded unseen,
//     the retry is void; ssmstore recognises its own write (each envelope
//     carries a random nonce) and reports success. The reads that tell
//     are made even if the caller's context has ended, for at most a
//     second; if they fail, the write returns an error that is neither
//     store.ErrConflict nor [ErrThrottled]: its outcome is unknown, and
//     the caller reads the key to find out.
//   - Delete writes a tombstone: the parameter itself is never
//     deleted, so that versions are never reused. Delete the parameters
//     under the prefix when the state is no longer needed.
//   - A write refused with TooManyUpdates (another update of the same
//     parameter under way) is tried again after a jittered wait, four
//     tries in all, within the caller's deadline. Then version b+1 is
//     read (as above, even if the caller's context has ended): if it is
//     this write's, an earlier try took effect and the write succeeds; if
//     another write has taken it, the write fails with
//     [store.ErrConflict], as one that lost the race does (the other
//     update under way was most likely that write: package token's
//     instances racing for the lease find the winner's); if none has (the
//     other update has not landed yet), with
//     [ErrThrottled], which is not store.ErrConflict: the value has not
//     changed, so reading again and writing at once would only feed the
//     throttle. Back off before reading again.
//
// Parameter Store's write rate is low (a few PutParameter per second per
// account by default, shared by every parameter) and each write costs a
// parameter version: use this store for keys written minutes apart (a
// token refreshed by the one instance that holds its lease), not for a
// breaker counting every failure under load; store/dynamostore is for that.
// Expired items stay as parameters until written again; only their reads
// change.
//
// Every method takes the caller's context, which bounds the SDK client's
// retries. A [Store] is safe for concurrent use.
package ssmstore
