// Package awsfake is an in-process server that speaks the JSON protocol of
// AWS Systems Manager Parameter Store and AWS Secrets Manager, for tests: no
// emulator of either can be installed on funcify's machines, so tests run the
// real AWS SDK v2 clients, with request signing and retries, against this
// server on a loopback port.
//
// It answers POST / with an X-Amz-Target of AmazonSSM.GetParametersByPath,
// AmazonSSM.GetParameter, AmazonSSM.PutParameter or
// secretsmanager.GetSecretValue, in application/x-amz-json-1.1, and fails on
// demand: [Server.Fail] makes the next requests of an action fail with a
// given status and error code, [Server.Deny] answers AccessDeniedException
// for names under a prefix, and [Server.SetHook] runs a function before each
// request (to block requests, for instance).
//
// A Server is safe for concurrent use.
package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Actions, as X-Amz-Target names them.
const (
	GetParametersByPath = "AmazonSSM.GetParametersByPath"
	GetParameter        = "AmazonSSM.GetParameter"
	PutParameter        = "AmazonSSM.PutParameter"
	GetSecretValue      = "secretsmanager.GetSecretValue"
)

// encrypted is what GetParameter returns for a SecureString asked for
// without WithDecryption: the fake's stand-in for the KMS ciphertext.
const encrypted = "AQICAHencrypted=="

// Request is a request the server received.
type Request struct {
	// Target is the X-Amz-Target header, such as "AmazonSSM.GetParameter".
	Target string
	// Body is the decoded JSON body.
	Body map[string]any
}

type paramVersion struct {
	value, typ string
	version    int64
	modified   time.Time
}

type fault struct {
	target string
	n      int
	status int
	code   string
	apply  bool // handle the request, then answer with the error
}

type secret struct {
	str    *string
	binary []byte
}

// Server is the fake. Its URL is the endpoint for the SDK clients'
// BaseEndpoint.
type Server struct {
	*httptest.Server

	mu       sync.Mutex // guards the fields below
	params   map[string][]paramVersion
	secrets  map[string]secret
	faults   []*fault
	denied   []string
	requests []Request
	pageSize int
	hook     func(target string)
}

// New starts a server that tb closes when it ends.
func New(tb testing.TB) *Server {
	s := Start()
	tb.Cleanup(s.Close)
	return s
}

// Start starts a server, for a TestMain; the caller closes it.
func Start() *Server {
	s := &Server{params: map[string][]paramVersion{}, secrets: map[string]secret{}, pageSize: 10}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SetEnv points the AWS SDK's default configuration and package awsclient
// at s through the process environment: FUNCIFY_ENDPOINT_SSM and
// FUNCIFY_ENDPOINT_SECRETSMANAGER, a region and static credentials. For a
// TestMain, before anything loads the configuration.
func (s *Server) SetEnv() {
	for k, v := range map[string]string{
		"FUNCIFY_ENDPOINT_SSM":            s.URL,
		"FUNCIFY_ENDPOINT_SECRETSMANAGER": s.URL,
		"AWS_REGION":                      "us-east-1",
		"AWS_ACCESS_KEY_ID":               "AKIDFAKE",
		"AWS_SECRET_ACCESS_KEY":           "fake-secret",
		"AWS_CONFIG_FILE":                 "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":     "/dev/null",
	} {
		os.Setenv(k, v)
	}
	os.Unsetenv("AWS_PROFILE")
	os.Unsetenv("AWS_SESSION_TOKEN")
}

// Config returns an AWS configuration for the real SDK clients that sends
// every service's requests to s, with static credentials, region us-east-1
// and the standard retryer with no delay between its 3 attempts and no
// retry quota, so that tests do not wait.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
		BaseEndpoint: aws.String(s.URL),
		Retryer: func() aws.Retryer {
			return awsretry.NewStandard(func(o *awsretry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = noDelay{}
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

type noDelay struct{}

func (noDelay) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// SetParameter stores a parameter as PutParameter with Overwrite would:
// typ is "String", "StringList" or "SecureString".
func (s *Server) SetParameter(name, typ, value string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putLocked(name, typ, value)
}

func (s *Server) putLocked(name, typ, value string) int64 {
	h := s.params[name]
	v := int64(1)
	if len(h) > 0 {
		v = h[len(h)-1].version + 1
	}
	s.params[name] = append(h, paramVersion{value: value, typ: typ, version: v, modified: time.Now()})
	return v
}

// Parameter returns the latest version of the parameter name.
func (s *Server) Parameter(name string) (value, typ string, version int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.params[name]
	if len(h) == 0 {
		return "", "", 0, false
	}
	p := h[len(h)-1]
	return p.value, p.typ, p.version, true
}

// SetSecretString stores a secret whose value is a string.
func (s *Server) SetSecretString(id, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[id] = secret{str: &value}
}

// SetSecretBinary stores a secret whose value is binary.
func (s *Server) SetSecretBinary(id string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[id] = secret{binary: slices.Clone(value)}
}

// Fail makes the next n requests for target (an action constant, or "" for
// any) fail with the HTTP status and the error code, such as
// 400 "ThrottlingException" or 500 "InternalServerError".
func (s *Server) Fail(target string, n, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{target: target, n: n, status: status, code: code})
}

// ApplyThenFail makes the next request of any action take effect and then
// be answered with the status and error code, as when a response is lost:
// the client sees a failure of a request that succeeded.
func (s *Server) ApplyThenFail(status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{n: 1, status: status, code: code, apply: true})
}

// Deny answers AccessDeniedException to every request whose parameter
// name, path or secret id starts with prefix.
func (s *Server) Deny(prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied = append(s.denied, prefix)
}

// SetPageSize sets the most parameters GetParametersByPath returns in one
// page when the request asks for more or does not say (default 10, the
// service's maximum).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// SetHook makes the server call f with the target before it handles each
// request, outside its lock.
func (s *Server) SetHook(f func(target string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = f
}

// Requests returns the requests received for target, or all of them when
// target is "".
func (s *Server) Requests(target string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if target == "" || r.Target == target {
			out = append(out, r)
		}
	}
	return out
}

// Count returns how many requests were received for target, or in all when
// target is "".
func (s *Server) Count(target string) int { return len(s.Requests(target)) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "POST / only")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, http.StatusBadRequest, "SerializationException", "content type "+ct)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		writeError(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "request is not signed")
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}

	s.mu.Lock()
	s.requests = append(s.requests, Request{Target: target, Body: body})
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(target)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.target == "" || f.target == target {
			f.n--
			if f.n <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			if f.apply {
				s.handle(httptest.NewRecorder(), target, body)
			}
			writeError(w, f.status, f.code, "injected fault")
			return
		}
	}
	name := str(body, "Name") + str(body, "Path") + str(body, "SecretId")
	for _, p := range s.denied {
		if strings.HasPrefix(name, p) {
			writeError(w, http.StatusBadRequest, "AccessDeniedException",
				"User: arn:aws:sts::123456789012:assumed-role/fn is not authorized to access "+name)
			return
		}
	}
	s.handle(w, target, body)
}

// handle answers one request; s.mu is held.
func (s *Server) handle(w http.ResponseWriter, target string, body map[string]any) {
	switch target {
	case GetParametersByPath:
		s.getByPath(w, body)
	case GetParameter:
		s.getParameter(w, body)
	case PutParameter:
		s.putParameter(w, body)
	case GetSecretValue:
		s.getSecretValue(w, body)
	default:
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "unknown target "+target)
	}
}

func (s *Server) paramJSON(name string, p paramVersion, decrypt bool) map[string]any {
	v := p.value
	if p.typ == "SecureString" && !decrypt {
		v = encrypted
	}
	return map[string]any{
		"Name": name, "Type": p.typ, "Value": v, "Version": p.version,
		"ARN":              "arn:aws:ssm:us-east-1:123456789012:parameter" + name,
		"DataType":         "text",
		"LastModifiedDate": float64(p.modified.UnixMilli()) / 1000,
	}
}

func (s *Server) getByPath(w http.ResponseWriter, body map[string]any) {
	path := str(body, "Path")
	if !strings.HasPrefix(path, "/") {
		writeError(w, http.StatusBadRequest, "ValidationException", "path must begin with /")
		return
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	recursive, _ := body["Recursive"].(bool)
	decrypt, _ := body["WithDecryption"].(bool)
	var names []string
	for n := range s.params {
		rest, ok := strings.CutPrefix(n, prefix)
		if ok && (recursive || !strings.Contains(rest, "/")) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	size := s.pageSize
	if m, ok := body["MaxResults"].(float64); ok && int(m) < size {
		size = int(m)
	}
	start := 0
	if tok := str(body, "NextToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil || n > len(names) {
			writeError(w, http.StatusBadRequest, "InvalidNextToken", "bad token")
			return
		}
		start = n
	}
	end := min(start+size, len(names))
	out := map[string]any{}
	params := []any{}
	for _, n := range names[start:end] {
		h := s.params[n]
		params = append(params, s.paramJSON(n, h[len(h)-1], decrypt))
	}
	out["Parameters"] = params
	if end < len(names) {
		out["NextToken"] = "page-" + strconv.Itoa(end)
	}
	writeJSON(w, out)
}

func (s *Server) getParameter(w http.ResponseWriter, body map[string]any) {
	name := str(body, "Name")
	decrypt, _ := body["WithDecryption"].(bool)
	base, sel, hasSel := strings.Cut(name, ":")
	h := s.params[base]
	if len(h) == 0 {
		writeError(w, http.StatusBadRequest, "ParameterNotFound", "")
		return
	}
	p := h[len(h)-1]
	if hasSel {
		v, err := strconv.ParseInt(sel, 10, 64)
		i := slices.IndexFunc(h, func(p paramVersion) bool { return p.version == v })
		if err != nil || i < 0 {
			writeError(w, http.StatusBadRequest, "ParameterVersionNotFound", "")
			return
		}
		p = h[i]
	}
	out := s.paramJSON(base, p, decrypt)
	if hasSel {
		out["Selector"] = ":" + sel
	}
	writeJSON(w, map[string]any{"Parameter": out})
}

func (s *Server) putParameter(w http.ResponseWriter, body map[string]any) {
	name, value, typ := str(body, "Name"), str(body, "Value"), str(body, "Type")
	overwrite, _ := body["Overwrite"].(bool)
	if !strings.HasPrefix(name, "/") && strings.Contains(name, "/") {
		writeError(w, http.StatusBadRequest, "ValidationException", "a hierarchical name must begin with /")
		return
	}
	if len(value) > 4096 {
		writeError(w, http.StatusBadRequest, "ValidationException", "value longer than 4096")
		return
	}
	h := s.params[name]
	if len(h) > 0 {
		if !overwrite {
			writeError(w, http.StatusBadRequest, "ParameterAlreadyExists", "")
			return
		}
		if typ == "" {
			typ = h[len(h)-1].typ
		}
	}
	if typ == "" {
		writeError(w, http.StatusBadRequest, "ValidationException", "Type is required")
		return
	}
	v := s.putLocked(name, typ, value)
	if h := s.params[name]; len(h) > 100 { // the service keeps 100 versions
		s.params[name] = slices.Clone(h[len(h)-100:])
	}
	writeJSON(w, map[string]any{"Version": v, "Tier": "Standard"})
}

func (s *Server) getSecretValue(w http.ResponseWriter, body map[string]any) {
	id := str(body, "SecretId")
	sec, ok := s.secrets[id]
	if !ok {
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	out := map[string]any{
		"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + id, "Name": id,
		"VersionId": "v1", "VersionStages": []string{"AWSCURRENT"}, "CreatedDate": float64(time.Now().Unix()),
	}
	if sec.str != nil {
		out["SecretString"] = *sec.str
	} else {
		out["SecretBinary"] = base64.StdEncoding.EncodeToString(sec.binary)
	}
	writeJSON(w, out)
}

func str(body map[string]any, key string) string {
	s, _ := body[key].(string)
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "fake-request-id")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "fake-request-id")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
}
