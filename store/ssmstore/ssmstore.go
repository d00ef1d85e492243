package ssmstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/store"
)

// API is the part of the SSM client that a [Store] uses; *ssm.Client has
// it.
type API interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// maxNameLen is the longest parameter name SSM accepts.
const maxNameLen = 1011

// The longest parameter value of each tier, in bytes.
const (
	standardLimit = 4 << 10
	advancedLimit = 8 << 10
)

// ErrTooLarge is returned, wrapped, by CompareAndSet for a value that does
// not fit in a parameter of the store's tier once in its envelope. No
// request is sent. It matches [store.ErrTooLarge] (errors.Is), so that code
// written for any store.Store (packages token and idempotency) can tell a
// value that will never fit from a failure of the store without importing
// this package; it also has a method TooLarge() bool that returns true.
var ErrTooLarge error = &tooLargeError{}

// ErrThrottled is returned, wrapped, by a write that Parameter Store kept
// refusing with TooManyUpdates (another update of the parameter under way)
// after the store's own retries, with backoff, within the caller's
// deadline, when reads after the last try find that no try took effect and
// no other write has taken a version of the parameter since this one's
// read (the other update has not landed yet). The write did not take
// effect. If another write has taken a version, the write fails with
// [store.ErrConflict] instead, as a compare-and-set that lost does:
// whoever reads again then finds the other writer's value. If an earlier
// try took effect unseen, the write succeeds. These reads are made even
// when the caller's context has ended (its end is often why a try's
// outcome is unseen), for at most a second; when they fail, the error is
// neither ErrThrottled nor store.ErrConflict, since the write may have
// taken effect: read the key to find out. ErrThrottled is not
// store.ErrConflict: the value has not changed, and writing again at once
// would only feed the throttle; back off before reading again. It has a
// method Throttled() bool that returns true, so that code written for any
// store.Store (package token) can tell it without importing this package. Parameter Store's account-wide rate
// limit (ThrottlingException) is not TooManyUpdates: the SDK client
// retries it, and its error is returned as it comes.
var ErrThrottled error = &throttledError{}

// throttledError is the type of ErrThrottled.
type throttledError struct{}

func (*throttledError) Error() string {
	return "ssmstore: Parameter Store throttled the write (TooManyUpdates)"
}

// Throttled returns true: the write was refused for the rate of writes,
// not for its value or version.
func (*throttledError) Throttled() bool { return true }

// tooLargeError is the type of ErrTooLarge.
type tooLargeError struct{}

func (*tooLargeError) Error() string { return "ssmstore: value too large for the parameter tier" }

// TooLarge returns true: the value will never fit, whatever the store's
// state; retrying is useless.
func (*tooLargeError) TooLarge() bool { return true }

// Is reports whether target is store.ErrTooLarge, which this error is an
// instance of.
func (*tooLargeError) Is(target error) bool { return target == store.ErrTooLarge }

// Retries of a write refused with TooManyUpdates.
const (
	throttleTries = 4                     // tries in all
	throttleWait  = 50 * time.Millisecond // the first wait, doubled after each try
)

// Store is a [store.Store] on Parameter Store. It is safe for concurrent
// use.
type Store struct {
	api    API
	prefix string
	typ    types.ParameterType
	keyID  *string
	tier   types.ParameterTier
	now    func() time.Time
}

// An Option configures a [Store].
type Option func(*Store)

// WithType sets the parameters' type: types.ParameterTypeSecureString, the
// default, or types.ParameterTypeString (no KMS call, value in clear text).
func WithType(t types.ParameterType) Option { return func(s *Store) { s.typ = t } }

// WithKeyID sets the KMS key of SecureString parameters; the default is the
// account's aws/ssm key.
func WithKeyID(id string) Option { return func(s *Store) { s.keyID = aws.String(id) } }

// WithTier sets the parameters' tier; the default is Standard, whose
// parameters hold 4 KB: a value of about 2.9 KB in base64, or a text value
// (valid UTF-8, such as JSON) of about 4,000 bytes, in its envelope.
// types.ParameterTierAdvanced and types.ParameterTierIntelligentTiering
// hold 8 KB (about 6 KB in base64, 8,100 bytes of text). See the package
// documentation.
func WithTier(t types.ParameterTier) Option { return func(s *Store) { s.tier = t } }

// limit returns the longest parameter value of the store's tier.
func (s *Store) limit() int {
	switch s.tier {
	case types.ParameterTierAdvanced, types.ParameterTierIntelligentTiering:
		return advancedLimit
	}
	return standardLimit
}

// New returns a store that keeps key k in the parameter prefix/escaped(k).
// New does no I/O; it panics if api is nil or prefix does not begin with
// '/', mistakes in the code that sets the function up, as net/http's
// ServeMux.Handle does with a nil handler.
func New(api API, prefix string, opts ...Option) *Store {
	if api == nil {
		panic("ssmstore: New with a nil API")
	}
	if !strings.HasPrefix(prefix, "/") {
		panic("ssmstore: New with the prefix " + strconv.Quote(prefix) + ", which does not begin with /")
	}
	s := &Store{api: api, prefix: strings.TrimSuffix(prefix, "/"), typ: types.ParameterTypeSecureString, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// envelope is a parameter's value.
type envelope struct {
	Base    int64  `json:"b"`           // the version the writer read
	Nonce   uint64 `json:"n"`           // random, to recognise one's own write
	Value   []byte `json:"v,omitempty"` // the value, base64 in JSON; or
	Text    string `json:"s,omitempty"` // the value, when only text fits
	Expires int64  `json:"e,omitempty"` // Unix milliseconds; 0: never
	Deleted bool   `json:"d,omitempty"` // a tombstone
}

// longest returns the length of env in JSON with the longest base and
// nonce there can be: what a write of env may take in a parameter.
func longest(env envelope) (int, error) {
	env.Base, env.Nonce = math.MaxInt64, math.MaxUint64
	b, err := json.Marshal(env)
	return len(b), err
}

// pack puts value in env so that it fits the store's tier: in base64
// ("v"), which every version of this package reads, whenever that fits;
// else, for a value that is valid UTF-8 (package token's record with a
// large token), as a JSON string ("s"), at its own size plus its escapes
// instead of four thirds of it. Versions before text values read "s" as an
// empty value, but could not hold such a value at all. It returns the
// length env takes at most, and whether that fits.
func (s *Store) pack(env *envelope, value []byte) (int, bool, error) {
	env.Value, env.Text = value, ""
	n, err := longest(*env)
	if err != nil || n <= s.limit() || len(value) == 0 || !utf8.Valid(value) {
		return n, err == nil && n <= s.limit(), err
	}
	text := *env
	text.Value, text.Text = nil, string(value)
	m, err := longest(text)
	if err != nil || m >= n {
		return n, false, err
	}
	*env = text
	return m, m <= s.limit(), nil
}

// value returns the value env holds.
func (env *envelope) value() []byte {
	if env.Text != "" {
		return []byte(env.Text)
	}
	return env.Value
}

// state is what a read of a key found.
type state struct {
	version int64    // the parameter's latest version; 0: no parameter
	env     envelope // the latest valid write, if any
	present bool     // the item exists and has not expired
}

// name returns the parameter of key.
func (s *Store) name(key string) (string, error) {
	var b strings.Builder
	b.WriteString(s.prefix)
	b.WriteByte('/')
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	if b.Len() > maxNameLen {
		return "", fmt.Errorf("ssmstore: key %q makes a parameter name longer than %d", key, maxNameLen)
	}
	return b.String(), nil
}

func apiCode(err error) string {
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		return ae.ErrorCode()
	}
	return ""
}

// version reads one version of the parameter name (or the latest, when v
// is 0) and decodes its envelope.
func (s *Store) version(ctx context.Context, name string, v int64) (envelope, int64, error) {
	n := name
	if v != 0 {
		n += ":" + strconv.FormatInt(v, 10)
	}
	out, err := s.api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(n), WithDecryption: aws.Bool(true)})
	if err != nil {
		return envelope{}, 0, err
	}
	var env envelope
	if out.Parameter == nil {
		return env, 0, fmt.Errorf("ssmstore: GetParameter %s: no parameter in the answer", n)
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Parameter.Value)), &env); err != nil {
		return env, 0, fmt.Errorf("ssmstore: parameter %s does not hold a store item: %w", n, err)
	}
	return env, out.Parameter.Version, nil
}

// read returns the state of the parameter name.
func (s *Store) read(ctx context.Context, name string) (state, error) {
	env, latest, err := s.version(ctx, name, 0)
	if apiCode(err) == "ParameterNotFound" {
		return state{}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("ssmstore: get %s: %w", name, err)
	}
	st := state{version: latest}
	// Walk back from the latest version to the latest valid write.
	for v := latest; env.Base != v-1; {
		v--
		if v == 0 { // every write so far was void: no item
			return st, nil
		}
		env, _, err = s.version(ctx, name, v)
		if apiCode(err) == "ParameterVersionNotFound" {
			return state{}, fmt.Errorf("ssmstore: get %s: the last valid write is older than the 100 versions SSM keeps", name)
		}
		if err != nil {
			return state{}, fmt.Errorf("ssmstore: get %s: %w", name, err)
		}
	}
	st.env = env
	st.present = !env.Deleted && (env.Expires == 0 || s.now().UnixMilli() < env.Expires)
	return st, nil
}

// Get returns the item at key; see [store.Store].
func (s *Store) Get(ctx context.Context, key string) (store.Item, error) {
	name, err := s.name(key)
	if err != nil {
		return store.Item{}, err
	}
	st, err := s.read(ctx, name)
	if err != nil || !st.present {
		return store.Item{}, err
	}
	it := store.Item{Value: st.env.value(), Version: st.version}
	if it.Value == nil {
		it.Value = []byte{}
	}
	if st.env.Expires != 0 {
		it.Expires = time.UnixMilli(st.env.Expires)
	}
	return it, nil
}

// CompareAndSet writes value at key if its version is version; see
// [store.Store] and the package documentation. A value too large for the
// store's tier once in its envelope is refused with [ErrTooLarge] before
// any request.
func (s *Store) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	name, err := s.name(key)
	if err != nil {
		return 0, err
	}
	var env envelope
	if ttl > 0 {
		env.Expires = s.now().Add(ttl).UnixMilli()
	}
	// Refuse up front what SSM would refuse after the read.
	n, ok, err := s.pack(&env, value)
	if err != nil {
		return 0, fmt.Errorf("ssmstore: %w", err)
	}
	if !ok {
		tier := s.tier
		if tier == "" {
			tier = types.ParameterTierStandard
		}
		return 0, fmt.Errorf("%w: key %q: %d bytes of value take up to %d bytes in a parameter, over the %d bytes of the %s tier",
			ErrTooLarge, key, len(value), n, s.limit(), tier)
	}
	return s.write(ctx, name, version, env)
}

// Delete removes key if its version is version; see [store.Store].
func (s *Store) Delete(ctx context.Context, key string, version int64) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	_, err = s.write(ctx, name, version, envelope{Deleted: true})
	return err
}

// write writes env at the parameter name over version, as CompareAndSet
// or Delete. A Delete of an absent key with version 0 writes nothing.
func (s *Store) write(ctx context.Context, name string, version int64, env envelope) (int64, error) {
	st, err := s.read(ctx, name)
	if err != nil {
		return 0, err
	}
	if version == 0 && st.present || version != 0 && (!st.present || st.version != version) {
		return 0, store.ErrConflict
	}
	if env.Deleted && !st.present {
		return 0, nil
	}
	env.Base = st.version
	env.Nonce = rand.Uint64()
	data, err := json.Marshal(env)
	if err != nil {
		return 0, fmt.Errorf("ssmstore: %w", err)
	}
	in := &ssm.PutParameterInput{
		Name:      aws.String(name),
		Value:     aws.String(string(data)),
		Type:      s.typ,
		KeyId:     s.keyID,
		Tier:      s.tier,
		Overwrite: aws.Bool(true),
	}
	out, err := s.api.PutParameter(ctx, in)
	// TooManyUpdates refuses a write while another of the same parameter
	// is under way: try again after a jittered wait. The envelope is the
	// same, so a retry that comes after another writer's is void, as any
	// late write.
	for try, wait := 1, throttleWait; apiCode(err) == "TooManyUpdates"; try, wait = try+1, 2*wait {
		if try == throttleTries || !attempt.Pause(ctx, wait/2+rand.N(wait/2)) {
			return s.throttled(ctx, name, env, try, err)
		}
		out, err = s.api.PutParameter(ctx, in)
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("ssmstore: put %s: %w", name, err)
	case out.Version == env.Base+1:
		return out.Version, nil
	}
	// Our write is void, unless an earlier try of it, which the SDK
	// retried, took version Base+1.
	cctx, cancel := checkContext(ctx)
	defer cancel()
	switch mine, err := s.own(cctx, name, env); {
	case err != nil:
		return 0, fmt.Errorf("ssmstore: put %s: the write was void, and whether an earlier try of it took effect is unknown: %w", name, err)
	case mine:
		return env.Base + 1, nil
	}
	return 0, store.ErrConflict
}

// checkTimeout bounds the reads that find out what became of a write whose
// answers did not say: they run even when the caller's context has ended
// (its end often is why the answer did not say), but not for long.
const checkTimeout = time.Second

// checkContext returns the context of the reads that check a write's
// outcome: ctx's values without its cancellation, bounded by checkTimeout.
func checkContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), checkTimeout)
}

// throttled returns the outcome of a write of env whose tries, the last
// of which failed with err, were refused with TooManyUpdates (or cut off
// by ctx during the waits): an earlier try may have taken effect unseen.
// It is found out with reads that outlive ctx's end (see checkContext):
//   - version Base+1 is env: the write took effect;
//   - it is another write: store.ErrConflict, as a write that lost;
//   - there is none: ErrThrottled, the write did not take effect;
//   - that cannot be read: ErrThrottled if the latest version is still
//     Base (nothing landed), else an error that is neither (the outcome is
//     unknown: the caller must check what the store holds).
func (s *Store) throttled(ctx context.Context, name string, env envelope, tries int, err error) (int64, error) {
	cctx, cancel := checkContext(ctx)
	defer cancel()
	mine, oerr := s.own(cctx, name, env)
	switch {
	case oerr == nil && mine:
		return env.Base + 1, nil
	case oerr == nil && !mine:
		return 0, store.ErrConflict
	case errors.Is(oerr, errNoVersion):
		return 0, fmt.Errorf("%w: put %s after %d tries: %w", ErrThrottled, name, tries, err)
	}
	latest, lerr := s.latest(cctx, name)
	if lerr == nil && latest == env.Base {
		return 0, fmt.Errorf("%w: put %s after %d tries: %w", ErrThrottled, name, tries, err)
	}
	if lerr == nil {
		lerr = fmt.Errorf("version %d was taken since version %d was read", latest, env.Base)
	}
	return 0, fmt.Errorf("ssmstore: put %s: refused with TooManyUpdates after %d tries, and whether an earlier try took effect is unknown: %w; %w", name, tries, oerr, lerr)
}

// errNoVersion says that a version of a parameter does not exist.
var errNoVersion = errors.New("ssmstore: no such version")

// own reports whether version Base+1 of the parameter name is env, the
// write of this call (same base and nonce). The error is errNoVersion if
// there is no such version, or that of the read when it failed: then
// whether it is env is unknown.
func (s *Store) own(ctx context.Context, name string, env envelope) (bool, error) {
	won, _, err := s.version(ctx, name, env.Base+1)
	switch code := apiCode(err); {
	case code == "ParameterNotFound" || code == "ParameterVersionNotFound":
		return false, errNoVersion
	case err != nil:
		return false, err
	}
	return won.Nonce == env.Nonce && won.Base == env.Base, nil
}

// latest returns the latest version of the parameter name; 0 if there is
// none.
func (s *Store) latest(ctx context.Context, name string) (int64, error) {
	out, err := s.api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	switch {
	case apiCode(err) == "ParameterNotFound":
		return 0, nil
	case err != nil:
		return 0, err
	case out.Parameter == nil:
		return 0, fmt.Errorf("ssmstore: GetParameter %s: no parameter in the answer", name)
	}
	return out.Parameter.Version, nil
}
