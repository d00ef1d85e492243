package testenv

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynaliteInstall is the command, run from the root of the funcify module,
// that installs dynalite at the version pinned in
// internal/testenv/dynalite/package-lock.json. scripts/test runs it when
// dynalite is missing.
const DynaliteInstall = "npm ci --prefix internal/testenv/dynalite"

// dynaliteDir is where the pinned dynalite is installed, relative to the
// module root.
const dynaliteDir = "internal/testenv/dynalite"

// dynaliteAttempts is how many times StartDynalite tries a fresh port when
// the one it picked was taken before dynalite could bind it.
const dynaliteAttempts = 3

// DynaliteRegion is the region that dynalite claims to serve and that
// [DynamoDBClient] signs for. dynalite accepts any region and any
// credentials.
const DynaliteRegion = "us-east-1"

// DynaliteServer is a running dynalite: a DynamoDB implementation on Node.js
// with in-memory storage, which forgets everything when it stops.
type DynaliteServer struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT, for
	// dynamodb.Options.BaseEndpoint or [DynamoDBClient].
	Endpoint string

	t testing.TB
	p *process
}

// Dynalite starts dynalite on a free loopback port for the rest of the test
// and returns its endpoint; see [StartDynalite].
func Dynalite(t testing.TB) (endpoint string) {
	t.Helper()
	s := StartDynalite(t)
	if s == nil {
		return ""
	}
	return s.Endpoint
}

// StartDynalite starts dynalite, the version pinned in
// internal/testenv/dynalite, on a free loopback port with in-memory storage.
// It returns once the server answers HTTP (within 10 s), and registers a
// t.Cleanup that stops it. dynalite's simulated CREATING, UPDATING and
// DELETING delays are turned off, but a new table still turns ACTIVE a moment
// after CreateTable returns, and refuses items until then
// (ResourceNotFoundException): wait for ACTIVE, as with DynamoDB.
//
// Where dynalite differs from DynamoDB as funcify uses it: it does not
// implement UpdateTimeToLive (it answers UnknownOperationException) and
// never deletes expired items, and it accepts any credentials and region.
//
// dynalite is looked for under the root of the module that holds the test's
// working directory (found by walking up to a go.mod). When it is not
// installed there, or node is not in PATH, StartDynalite skips the test with
// the install command, or fails it under [RequireServers]; it then returns
// nil (only reached by a testing.TB whose Skipf returns).
func StartDynalite(t testing.TB) *DynaliteServer {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		missing(t, "dynalite is not installed: "+err.Error(), DynaliteInstall+"   # from the root of the funcify module")
		return nil
	}
	cli := filepath.Join(root, dynaliteDir, "node_modules", "dynalite", "cli.js")
	if !isFile(cli) {
		missing(t, "dynalite is not installed in "+filepath.Join(root, dynaliteDir), "cd "+root+" && "+DynaliteInstall)
		return nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node (Node.js 20 or later, which runs dynalite) is not in PATH", "apt-get install nodejs")
		return nil
	}
	env := []string{"PATH=" + os.Getenv("PATH")}
	for attempt := 1; ; attempt++ {
		addr := loopback(FreePort(t))
		_, port, _ := strings.Cut(addr, ":")
		args := []string{
			cli,
			"--host", "127.0.0.1",
			"--port", port,
			"--createTableMs", "0",
			"--deleteTableMs", "0",
			"--updateTableMs", "0",
		}
		p := start(t, "dynalite", node, args, env, filepath.Dir(cli))
		s := &DynaliteServer{Endpoint: "http://" + addr, t: t, p: p}
		err := p.waitReady(addr)
		if err == nil {
			// Something else may hold the port: make sure it is ours.
			err = s.healthy()
		}
		if err == nil {
			return s
		}
		if stopErr := p.stop(); stopErr != nil {
			t.Errorf("testenv: %v", stopErr)
		}
		// Another server took the port between FreePort and dynalite's
		// bind: dynalite says EADDRINUSE, or has not said it yet while the
		// other server answered the health check.
		if attempt < dynaliteAttempts && (strings.Contains(p.out.String(), "EADDRINUSE") || errors.Is(err, errNotDynalite)) {
			t.Logf("testenv: dynalite lost a port race (attempt %d), retrying with a new port", attempt)
			continue
		}
		t.Fatalf("testenv: %v\n%s", err, p.out)
	}
}

// Stop kills the server now, before the test ends, as a crashed or
// unreachable DynamoDB would be: calls to its endpoint fail with connection
// refused from then on. Stop may be called more than once; the cleanup that
// StartDynalite registered does nothing more.
func (s *DynaliteServer) Stop() {
	s.t.Helper()
	if err := s.p.stop(); err != nil {
		s.t.Errorf("testenv: %v", err)
	}
}

// errNotDynalite says that another server answers on dynalite's port.
var errNotDynalite = errors.New("not dynalite")

// healthy checks that the server at s.Endpoint is this dynalite: it answers
// GET / with a health line, and the process still runs.
func (s *DynaliteServer) healthy() error {
	c := &http.Client{Timeout: readyTimeout}
	resp, err := c.Get(s.Endpoint + "/")
	if err != nil {
		return fmt.Errorf("dynalite does not answer: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "healthy: dynamodb") {
		return fmt.Errorf("%w: %s answers status %d, body %q", errNotDynalite, s.Endpoint, resp.StatusCode, body)
	}
	if s.p.exited() {
		return fmt.Errorf("dynalite exited: %v", s.p.err)
	}
	return nil
}

// moduleRoot returns the directory of the funcify module: the nearest
// directory above the working directory that holds a go.mod and the
// dynalite folder, so that a nested module (bench/) is passed over.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) && isFile(filepath.Join(dir, dynaliteDir, "package.json")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no funcify module root (a go.mod beside " + dynaliteDir + ") above the working directory")
		}
		dir = parent
	}
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// DynamoDBClient returns a DynamoDB client for endpoint (such as a
// [DynaliteServer]'s) that signs with fixed fake credentials for
// [DynaliteRegion]. optFns change its options, the retryer say, after
// those.
func DynamoDBClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	opts := dynamodb.Options{
		Region:       DynaliteRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFUNCIFYTEST", "funcify-test-secret", ""),
	}
	return dynamodb.New(opts, optFns...)
}
