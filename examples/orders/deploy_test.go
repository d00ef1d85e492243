package main

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/internal/testenv"
)

// templatePath is the SAM template of the example, from this package.
const templatePath = "template.yaml"

// readTemplate returns the template's text.
func readTemplate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mutate returns text with its one occurrence of old replaced by new; it
// fails the test when old does not occur exactly once, so that a case
// always tests what it says.
func mutate(t *testing.T, text, old, new string) string {
	t.Helper()
	if n := strings.Count(text, old); n != 1 {
		t.Fatalf("the template holds %q %d times, want once", old, n)
	}
	return strings.Replace(text, old, new, 1)
}

// cfnLintVersion is the version of cfn-lint the template is checked with.
// TestDeployTemplateLint wants no warning, and a new cfn-lint may bring new
// ones, so the version is pinned here, in one place: scripts/test reads it
// from this line and installs that version when cfn-lint is missing.
const cfnLintVersion = "1.51.0"

// cfnLintVenv is where scripts/test installs cfn-lint when there is none on
// PATH: a Python virtual environment of its own, from the repository's root,
// since a system Python may refuse installs into itself (PEP 668).
// scripts/test makes the same path from cfnLintVersion; git ignores .cache.
const cfnLintVenv = ".cache/cfn-lint/" + cfnLintVersion

// cfnLintInstall is how to install the pinned cfn-lint, from the
// repository's root: what scripts/test runs when cfn-lint is missing.
const cfnLintInstall = "python3 -m venv " + cfnLintVenv + " && " +
	cfnLintVenv + "/bin/python -m pip install cfn-lint==" + cfnLintVersion +
	"\n\tor: pipx install cfn-lint==" + cfnLintVersion

// cfnLintCmd is an installed cfn-lint.
type cfnLintCmd struct {
	path    string
	version string // as cfn-lint --version prints it: 1.51.0
}

// pinNote returns "" when c is the pinned version, and otherwise a line
// for a failure message that says so: another version may find other
// things.
func (c cfnLintCmd) pinNote() string {
	if c.version == cfnLintVersion {
		return ""
	}
	return "\n(this is cfn-lint " + c.version + " at " + c.path + ", not the pinned " + cfnLintVersion +
		", which may find other things; install the pinned one with, from the repository's root:\n\t" +
		cfnLintInstall + ")"
}

// cfnLint returns the cfn-lint scripts/test installs, in cfnLintVenv, or
// else the one on PATH. When there is neither it skips the test, or fails it
// under testenv.RequireServers, as internal/testenv does for the servers it
// starts.
func cfnLint(t *testing.T) cfnLintCmd {
	t.Helper()
	p := filepath.Join("..", "..", filepath.FromSlash(cfnLintVenv), "bin", "cfn-lint")
	if _, err := os.Stat(p); err != nil {
		if p, err = exec.LookPath("cfn-lint"); err != nil {
			msg := "cfn-lint not found; install it with (from the repository's root):\n\t" + cfnLintInstall
			if testenv.RequireServers() {
				t.Fatalf("%s\n(FUNCIFY_REQUIRE_SERVERS is set, so this fails instead of skipping)", msg)
			}
			t.Skipf("%s\n(set FUNCIFY_REQUIRE_SERVERS=1 to make this a failure)", msg)
		}
	}
	out, err := exec.Command(p, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", p, err, out)
	}
	c := cfnLintCmd{path: p, version: strings.TrimPrefix(strings.TrimSpace(string(out)), "cfn-lint ")}
	if c.version != cfnLintVersion {
		t.Logf("cfn-lint %s at %s, not the pinned %s", c.version, p, cfnLintVersion)
	}
	return c
}

// lint runs cfn-lint on the template at path and returns its findings, one
// a line, or "" when it found neither an error nor a warning. An exit code
// that cfn-lint gives to its own failures fails the test.
func lint(t *testing.T, cl cfnLintCmd, path string) string {
	t.Helper()
	cmd := exec.Command(cl.path, "--format", "parseable", "--non-zero-exit-code", "warning", "--", path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &exit) && exit.ExitCode()&(2|4) != 0: // 2: an error, 4: a warning
		if len(out) == 0 {
			return "cfn-lint exited " + exit.String() + " and printed nothing"
		}
		return string(out)
	default:
		t.Fatalf("cfn-lint %s: %v\n%s%s", path, err, out, cl.pinNote())
		return ""
	}
}

// TestDeployTemplateLint: cfn-lint finds neither an error nor a warning in
// the SAM template, and does find them in broken copies of it, so that the
// check can fail.
func TestDeployTemplateLint(t *testing.T) {
	cl := cfnLint(t)
	text := readTemplate(t)
	tests := []struct {
		name string
		text string // the template's text; "" lints the file itself
		want string // a finding's rule; "" for none
	}{
		{"template", "", ""},
		{"SQS event without Queue", mutate(t, text, "            Queue: !GetAtt OrderEventsQueue.Arn\n", ""), "E0001"},
		{"misspelt response type", mutate(t, text,
			"Queue: !GetAtt OrderEventsFIFOQueue.Arn\n            BatchSize: 10\n            FunctionResponseTypes: [ReportBatchItemFailures]",
			"Queue: !GetAtt OrderEventsFIFOQueue.Arn\n            BatchSize: 10\n            FunctionResponseTypes: [ReportBatchItemFailure]"), "E3030"},
		{"a warning: needless DependsOn", mutate(t, text,
			"  OrderEventsQueue:\n    Type: AWS::SQS::Queue\n",
			"  OrderEventsQueue:\n    Type: AWS::SQS::Queue\n    DependsOn: OrderEventsDLQ\n"), "W3005"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := templatePath
			if tt.text != "" {
				path = filepath.Join(t.TempDir(), "template.yaml")
				if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := lint(t, cl, path)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("cfn-lint %s:\n%s%s", path, got, cl.pinNote())
			case tt.want != "" && !strings.Contains(got, ":"+tt.want+":"):
				t.Errorf("cfn-lint: got %q, want a finding %s%s", got, tt.want, cl.pinNote())
			}
		})
	}
}

// yamlLines is a YAML document as lines: enough of YAML to find a
// resource's entry and the scalar values of its keys in a template written
// as this one is (block mappings, two-space indents, one key a line).
// cfn-lint reads the whole of it.
type yamlLines []string

func indent(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }

// entry returns the entry whose key line is y[i]: that line and every
// following line that is blank or more indented.
func (y yamlLines) entry(i int) yamlLines {
	j := i + 1
	for j < len(y) && (strings.TrimSpace(y[j]) == "" || indent(y[j]) > indent(y[i])) {
		j++
	}
	return y[i:j]
}

// child returns the entry of the first line under y's first line whose key
// is key, or nil.
func (y yamlLines) child(key string) yamlLines {
	for i := 1; i < len(y); i++ {
		if strings.TrimSpace(y[i]) == key+":" {
			return y.entry(i)
		}
	}
	return nil
}

// children returns the entries directly under y's first line.
func (y yamlLines) children() []yamlLines {
	var out []yamlLines
	for i := 1; i < len(y); {
		if strings.TrimSpace(y[i]) == "" || strings.HasPrefix(strings.TrimSpace(y[i]), "#") {
			i++
			continue
		}
		e := y.entry(i)
		out = append(out, e)
		i += len(e)
	}
	return out
}

// value returns the scalar value of the first line under y's first line
// whose key is key, without quotes, and "" when there is none (or y is
// nil).
func (y yamlLines) value(key string) string {
	if len(y) == 0 {
		return ""
	}
	for _, l := range y[1:] {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), key+":"); ok && v != "" {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

// resource returns the entry of the template's resource id, or nil.
func (y yamlLines) resource(id string) yamlLines {
	for i, l := range y {
		if l == "  "+id+":" {
			return y.entry(i)
		}
	}
	return nil
}

// logicalID returns X of "!Ref X" or "!GetAtt X.Arn".
func logicalID(v string) string {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "!Ref "), "!GetAtt ")
	return strings.TrimSuffix(v, ".Arn")
}

// The account and region the route check deploys to.
const (
	testAccount = "123456789012"
	testRegion  = "eu-west-1"
)

// templateProblems checks that the template wires the function as the code
// routes: an HTTP API event and a function URL; every SQS event names a
// queue whose name a (a fresh orders app) routes, and reports batch item
// failures; the S3 event's bucket and the Schedule event's rule have names
// that a routes. It returns what it finds wrong.
func templateProblems(a *app.App, text string) []string {
	var problems []string
	bad := func(s string) { problems = append(problems, s) }
	invoke := func(what string, payload []byte) {
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "test"})
		if _, err := a.Invoke(ctx, payload); err != nil {
			bad(what + ": " + err.Error())
		}
	}
	doc := yamlLines(strings.Split(text, "\n"))
	fn := doc.resource("OrdersFunction")
	if fn == nil {
		return []string{"no resource OrdersFunction"}
	}
	if fn.child("Properties").child("FunctionUrlConfig") == nil {
		bad("no FunctionUrlConfig")
	}
	kinds := map[string]int{}
	for _, ev := range fn.child("Properties").child("Events").children() {
		typ := ev.value("Type")
		kinds[typ]++
		props := ev.child("Properties")
		switch typ {
		case "SQS":
			if !strings.Contains(props.value("FunctionResponseTypes"), "ReportBatchItemFailures") {
				bad(ev[0] + " SQS event without FunctionResponseTypes: [ReportBatchItemFailures]")
			}
			q := doc.resource(logicalID(props.value("Queue")))
			name := q.child("Properties").value("QueueName")
			if q == nil || name == "" {
				bad(ev[0] + " SQS event: no queue with a QueueName")
				continue
			}
			invoke("queue "+name, sqsBatch("arn:aws:sqs:"+testRegion+":"+testAccount+":"+name, `{"id":"1","status":"shipped"}`))
		case "S3":
			b := doc.resource(logicalID(props.value("Bucket")))
			name := strings.TrimPrefix(b.child("Properties").value("BucketName"), "!Sub ")
			if b == nil || name == "" {
				bad(ev[0] + " S3 event: no bucket with a BucketName")
				continue
			}
			name = strings.NewReplacer("${AWS::AccountId}", testAccount, "${AWS::Region}", testRegion).Replace(name)
			var rec events.S3EventRecord
			rec.EventSource, rec.S3.Bucket.Name, rec.S3.Object.Key = "aws:s3", name, "invoice.pdf"
			payload, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
			invoke("bucket "+name, payload)
		case "Schedule":
			rule := props.value("Name")
			invoke("rule "+rule, []byte(`{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events",
				"account":"`+testAccount+`","time":"2026-12-02T02:00:00Z","region":"`+testRegion+`",
				"resources":["arn:aws:events:`+testRegion+`:`+testAccount+`:rule/`+rule+`"],"detail":{}}`))
		}
	}
	for _, k := range []string{"HttpApi", "S3", "SQS", "Schedule"} {
		if kinds[k] == 0 {
			bad("no " + k + " event")
		}
	}
	return problems
}

// TestDeployTemplateRoutes: the names the template gives the queues, the
// bucket and the schedule rule are the ones the function routes, every SQS
// event reports batch item failures, and the HTTP API and the function URL
// are wired; the check finds each of those broken in a copy of the template.
func TestDeployTemplateRoutes(t *testing.T) {
	text := readTemplate(t)
	tests := []struct {
		name string
		text string
		want string // in a problem; "" for none
	}{
		{"template", text, ""},
		{"FIFO event without ReportBatchItemFailures", mutate(t, text,
			"Queue: !GetAtt OrderEventsFIFOQueue.Arn\n            BatchSize: 10\n            FunctionResponseTypes: [ReportBatchItemFailures]\n",
			"Queue: !GetAtt OrderEventsFIFOQueue.Arn\n            BatchSize: 10\n"), "OrderEventsFIFO: SQS event without"},
		{"queue of another name", mutate(t, text, "QueueName: order-events\n", "QueueName: orders-events\n"), "orders-events"},
		{"bucket of another name", mutate(t, text, "!Sub invoices.", "!Sub invoice-files."), "invoice-files"},
		{"rule of another name", mutate(t, text, "Name: orders.nightly", "Name: orders-nightly"), "orders-nightly"},
		{"no HTTP API", mutate(t, text, "Type: HttpApi", "Type: Api"), "no HttpApi event"},
		{"no function URL", mutate(t, text, "FunctionUrlConfig:", "# FunctionUrlConfig:"), "no FunctionUrlConfig"},
		{"queue not in the template", mutate(t, text, "Queue: !GetAtt OrderEventsQueue.Arn", "Queue: !GetAtt ElsewhereQueue.Arn"),
			"OrderEvents: SQS event: no queue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(newStore(), app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
			got := templateProblems(a, tt.text)
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("problems: got %q, want none", got)
				}
				return
			}
			if !strings.Contains(strings.Join(got, "\n"), tt.want) {
				t.Errorf("problems: got %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// key returns the key of the entry y: the key on its first line, without a
// list item's "- ".
func (y yamlLines) key() string {
	k, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(y[0]), "- "), ":")
	return k
}

// itemValue returns the scalar value of key in the list item y, whose first
// line ("- Key: value") holds a key too.
func (y yamlLines) itemValue(key string) string {
	if v, ok := strings.CutPrefix(strings.TrimPrefix(strings.TrimSpace(y[0]), "- "), key+":"); ok {
		return strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return y.value(key)
}

// list returns the values of key under y's first line: a flow list
// "[a, b]", a scalar, or the "- x" lines of a block list.
func (y yamlLines) list(key string) []string {
	var out []string
	if v := y.value(key); v != "" {
		for _, s := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(v, "["), "]"), ",") {
			out = append(out, strings.Trim(strings.TrimSpace(s), `"'`))
		}
		return out
	}
	for _, e := range y.child(key).children() {
		out = append(out, strings.Trim(strings.TrimPrefix(strings.TrimSpace(e[0]), "- "), `"'`))
	}
	return out
}

// paramSet reads the one condition the template's rules are written with,
// `!Not [!Equals [!Ref P, ""]]` (the parameter P is set), and returns P.
func paramSet(v string) (string, bool) {
	v, ok := strings.CutPrefix(v, `!Not [!Equals [!Ref `)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(v, `, ""]]`)
}

// jwtRuleProblems checks that the template's Rules refuse a stack with
// some but not all of the JWT parameters set (the function would stop at
// start, and every invocation fail), and accept one with all three or none.
// The parameters are the ones the function's envIssuer, envAudience and
// envJWKS are set from. It reads each rule in the form the template writes
// it (RuleCondition: a parameter is set; each Assert: another one is set)
// and evaluates the rules for each of the eight ways to set some of the
// three. It returns what it finds wrong.
func jwtRuleProblems(text string) []string {
	var problems []string
	bad := func(s string) { problems = append(problems, s) }
	doc := yamlLines(strings.Split(text, "\n"))
	vars := doc.resource("OrdersFunction").child("Properties").child("Environment").child("Variables")
	var params []string
	jwt := map[string]bool{}
	for _, env := range []string{envIssuer, envAudience, envJWKS} {
		v := vars.value(env)
		if !strings.HasPrefix(v, "!Ref ") {
			return []string{"the function's " + env + " is not set from a parameter: " + v}
		}
		params = append(params, logicalID(v))
		jwt[logicalID(v)] = true
	}

	// rule is a rule about the JWT parameters: when the parameter when is
	// set ("" for always), so must those in need be.
	type rule struct {
		when string
		need []string
	}
	var rules []rule
	var section yamlLines
	for i, l := range doc {
		if l == "Rules:" {
			section = doc.entry(i)
		}
	}
	for _, r := range section.children() {
		about := false // whether r names a JWT parameter
		for _, p := range params {
			about = about || strings.Contains(strings.Join(r, "\n"), "!Ref "+p+",")
		}
		if !about {
			continue
		}
		var ru rule
		if c := r.value("RuleCondition"); c != "" {
			p, ok := paramSet(c)
			if !ok {
				bad("rule " + r.key() + ": cannot read its RuleCondition " + c)
				continue
			}
			ru.when = p
		}
		for _, a := range r.child("Assertions").children() {
			v := a.itemValue("Assert")
			p, ok := paramSet(v)
			if !ok {
				bad("rule " + r.key() + ": cannot read its Assert " + v)
				continue
			}
			ru.need = append(ru.need, p)
		}
		if ru.when == "" || jwt[ru.when] {
			rules = append(rules, ru)
		}
	}

	for mask := 0; mask < 1<<len(params); mask++ {
		set := map[string]bool{}
		var names []string
		for i, p := range params {
			if mask&(1<<i) != 0 {
				set[p] = true
				names = append(names, p)
			}
		}
		refused := false
		for _, r := range rules {
			if r.when != "" && !set[r.when] {
				continue
			}
			for _, p := range r.need {
				refused = refused || jwt[p] && !set[p]
			}
		}
		switch {
		case len(names) == 0 && refused:
			bad("with none of " + strings.Join(params, ", ") + " set: refused, want it deployed")
		case len(names) == len(params) && refused:
			bad("with all of " + strings.Join(params, ", ") + " set: refused, want it deployed")
		case len(names) != 0 && len(names) != len(params) && !refused:
			bad("with only " + strings.Join(names, " and ") + " set: deployed, want it refused (the function would stop at start)")
		}
	}
	return problems
}

// TestDeployTemplateJWTRule: found in review (issue 14): with one or two of
// the three JWT parameters set, the stack deployed, and then every
// invocation failed at init. The template's Rules refuse that, and accept
// all three or none; the check finds the rules broken in copies of the
// template.
func TestDeployTemplateJWTRule(t *testing.T) {
	text := readTemplate(t)
	tests := []struct {
		name string
		text string
		want string // in a problem; "" for none
	}{
		{"template", text, ""},
		{"no Rules", mutate(t, text, "\nRules:\n", "\nNoRules:\n"), "with only JWTIssuer set: deployed"},
		{"a rule on the wrong parameter", mutate(t, text,
			`RuleCondition: !Not [!Equals [!Ref JWKSURL, ""]]`, `RuleCondition: !Not [!Equals [!Ref JWTIssuer, ""]]`),
			"with only JWKSURL set: deployed"},
		{"a rule without its condition", mutate(t, text, `    RuleCondition: !Not [!Equals [!Ref JWTAudience, ""]]`+"\n", ""),
			"with none of JWTIssuer, JWTAudience, JWKSURL set: refused"},
		{"an assertion of another form", mutate(t, text,
			"Assert: !Not [!Equals [!Ref JWTAudience, \"\"]]\n        AssertDescription: JWTIssuer is set",
			"Assert: !Equals [!Ref JWTAudience, \"x\"]\n        AssertDescription: JWTIssuer is set"), "cannot read its Assert"},
		{"a variable from another parameter", mutate(t, text, "ORDERS_JWKS_URL: !Ref JWKSURL", "ORDERS_JWKS_URL: !Ref CORSOrigins"),
			"with only CORSOrigins set: deployed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := jwtRuleProblems(tt.text)
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("problems: got %q, want none", got)
				}
				return
			}
			if !strings.Contains(strings.Join(got, "\n"), tt.want) {
				t.Errorf("problems: got %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// roleProblems checks that the function's role may do what the README says
// and nothing more: write the function's log group (logs:CreateLogStream
// and logs:PutLogEvents on it) and poll the queues of its SQS events
// (sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on
// each), through Allow statements of its own policies, with no managed
// policy; and that the function gives SAM no Policies to make a role of its
// own from. It returns what it finds wrong.
func roleProblems(text string) []string {
	var problems []string
	bad := func(s string) { problems = append(problems, s) }
	doc := yamlLines(strings.Split(text, "\n"))
	props := doc.resource("OrdersFunction").child("Properties")
	if props.child("Policies") != nil || props.value("Policies") != "" {
		bad("the function has Policies, from which SAM makes a role")
	}
	want := map[string]bool{}
	if lg := props.value("LogGroup"); lg != "" {
		for _, a := range []string{"logs:CreateLogStream", "logs:PutLogEvents"} {
			want[a+" on !GetAtt "+logicalID(lg)+".Arn"] = true
		}
	} else {
		bad("the function has no LoggingConfig.LogGroup")
	}
	for _, ev := range props.child("Events").children() {
		if ev.value("Type") == "SQS" {
			for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
				want[a+" on "+ev.child("Properties").value("Queue")] = true
			}
		}
	}
	role := doc.resource(logicalID(props.value("Role")))
	if role == nil {
		return append(problems, "the function's Role "+props.value("Role")+" is no resource of the template")
	}
	got := map[string]bool{}
	for _, e := range role.child("Properties").children() {
		switch e.key() {
		case "ManagedPolicyArns":
			bad("the role has ManagedPolicyArns")
		case "Policies":
			for _, pol := range e.children() {
				for _, st := range pol.child("PolicyDocument").child("Statement").children() {
					if eff := st.itemValue("Effect"); eff != "Allow" {
						bad("policy " + pol.itemValue("PolicyName") + ": a statement whose Effect is " + eff)
						continue
					}
					for _, f := range st.children() {
						if k := f.key(); k != "Action" && k != "Resource" {
							bad("policy " + pol.itemValue("PolicyName") + ": a statement with " + k + ", which this check does not read")
						}
					}
					for _, a := range st.list("Action") {
						for _, r := range st.list("Resource") {
							got[a+" on "+r] = true
						}
					}
				}
			}
		}
	}
	for _, g := range slices.Sorted(maps.Keys(got)) {
		if !want[g] {
			bad("the role may " + g + ", which the README does not say")
		}
	}
	for _, w := range slices.Sorted(maps.Keys(want)) {
		if !got[w] {
			bad("the role may not " + w)
		}
	}
	return problems
}

// TestDeployTemplateRole: the function's role may write its log group and
// poll its two queues, nothing else, as the README says; the check finds
// more and less than that in copies of the template.
func TestDeployTemplateRole(t *testing.T) {
	text := readTemplate(t)
	const fifo = "                  - !GetAtt OrderEventsFIFOQueue.Arn\n"
	tests := []struct {
		name string
		text string
		want string // in a problem; "" for none
	}{
		{"template", text, ""},
		{"every queue", mutate(t, text, fifo, fifo+`                  - "*"`+"\n"), "the role may sqs:ReceiveMessage on *,"},
		{"sending too", mutate(t, text, "sqs:GetQueueAttributes]", "sqs:GetQueueAttributes, sqs:SendMessage]"),
			"the role may sqs:SendMessage on !GetAtt OrderEventsQueue.Arn,"},
		{"a queue left out", mutate(t, text, fifo, ""), "the role may not sqs:DeleteMessage on !GetAtt OrderEventsFIFOQueue.Arn"},
		{"another log group", mutate(t, text, "LogGroup: !Ref OrdersLogs", "LogGroup: !Ref OtherLogs"),
			"the role may not logs:PutLogEvents on !GetAtt OtherLogs.Arn"},
		{"a managed policy", mutate(t, text, "      Policies:\n        - PolicyName: logs",
			"      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]\n      Policies:\n        - PolicyName: logs"),
			"ManagedPolicyArns"},
		{"SAM policies", mutate(t, text, "      Role: !GetAtt OrdersRole.Arn\n",
			"      Role: !GetAtt OrdersRole.Arn\n      Policies: [AmazonSQSFullAccess]\n"), "the function has Policies"},
		{"a condition", mutate(t, text, "                Resource: !GetAtt OrdersLogs.Arn\n",
			"                Resource: !GetAtt OrdersLogs.Arn\n                Condition: {}\n"), "a statement with Condition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roleProblems(tt.text)
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("problems: got %q, want none", got)
				}
				return
			}
			if !strings.Contains(strings.Join(got, "\n"), tt.want) {
				t.Errorf("problems: got %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// TestDeployBootstrap: scripts/build-bootstrap, as the README shows it,
// makes for each of Lambda's architectures a zip that holds exactly one
// file, bootstrap, executable, a static and stripped Linux executable for
// that machine, built with the lambda.norpc and funcify.lambdaonly tags and
// -trimpath.
func TestDeployBootstrap(t *testing.T) {
	script, err := filepath.Abs("../../scripts/build-bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		arch    string
		machine elf.Machine
	}{
		{"arm64", elf.EM_AARCH64},
		{"amd64", elf.EM_X86_64},
	} {
		t.Run(tt.arch, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "bin", "orders.zip")
			if b, err := exec.Command("bash", script, "-arch", tt.arch, ".", out).CombinedOutput(); err != nil {
				t.Fatalf("build-bootstrap: %v\n%s", err, b)
			}
			z, err := zip.OpenReader(out)
			if err != nil {
				t.Fatal(err)
			}
			defer z.Close()
			var names []string
			for _, f := range z.File {
				names = append(names, f.Name)
			}
			if len(names) != 1 || names[0] != "bootstrap" {
				t.Fatalf("entries: got %q, want [\"bootstrap\"]", names)
			}
			f := z.File[0]
			if got := f.Mode(); got != 0o755 {
				t.Errorf("bootstrap's mode: got %v, want -rwxr-xr-x", got)
			}
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			bin, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(out)
			t.Logf("bootstrap: %d bytes, zip: %d bytes", len(bin), fi.Size())

			e, err := elf.NewFile(bytes.NewReader(bin))
			if err != nil {
				t.Fatalf("bootstrap is not ELF: %v", err)
			}
			if e.Machine != tt.machine || e.Type != elf.ET_EXEC {
				t.Errorf("bootstrap: got %v %v, want %v %v", e.Type, e.Machine, elf.ET_EXEC, tt.machine)
			}
			for _, p := range e.Progs {
				if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
					t.Errorf("bootstrap has a %v program header: not static", p.Type)
				}
			}
			var unstripped []string
			for _, s := range e.Sections {
				if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
					unstripped = append(unstripped, s.Name)
				}
			}
			if len(unstripped) != 0 {
				t.Errorf("bootstrap's sections: got %q, want no symbol table and no DWARF (-s -w)", unstripped)
			}
			info, err := buildinfo.Read(bytes.NewReader(bin))
			if err != nil {
				t.Fatalf("bootstrap's build information: %v", err)
			}
			settings := map[string]string{}
			for _, s := range info.Settings {
				settings[s.Key] = s.Value
			}
			for k, want := range map[string]string{
				"GOOS": "linux", "GOARCH": tt.arch, "CGO_ENABLED": "0",
				"-tags": "lambda.norpc,funcify.lambdaonly", "-trimpath": "true",
			} { // -ldflags is not recorded under -trimpath: the sections show it
				if got := settings[k]; got != want {
					t.Errorf("bootstrap built with %s=%q, want %q", k, got, want)
				}
			}
		})
	}
}
