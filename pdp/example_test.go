package pdp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/funcify/funcify/pdp"
	"github.com/funcify/funcify/pip"
)

func ExampleMatch() {
	fmt.Println(pdp.Match("orders:order:read", "orders:order:read"))
	fmt.Println(pdp.Match("orders:*:read", "orders:invoice:read"))
	fmt.Println(pdp.Match("orders:*", "orders:order:write"))
	fmt.Println(pdp.Match("orders:*", "orders"))            // a final '*' needs one segment or more
	fmt.Println(pdp.Match("Orders:*", "orders:order:read")) // case-sensitive
	fmt.Println(pdp.Match("*", "orders:*:read"))            // required activities are concrete
	// Output:
	// true
	// true
	// true
	// false
	// false
	// false
}

func ExampleActivity() {
	p, err := pdp.Activity("orders:order:read")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	fmt.Println(p.Decide(ctx, &pip.Subject{Activities: []string{"orders:*"}}))
	fmt.Println(p.Decide(ctx, &pip.Subject{Activities: []string{"orders:order:write"}}))
	fmt.Println(p.Decide(ctx, nil))

	_, err = pdp.Activity("orders::read")
	fmt.Println(err)
	// Output:
	// <nil>
	// pdp: not allowed: activity orders:order:read not granted
	// pdp: no authenticated subject
	// pdp: malformed activity "orders::read": segment 2: empty segment
}

func ExampleNamespace() {
	p := pdp.MustActivity("orders:order:read", pdp.Namespace("orders"))
	fmt.Println(p.Granted([]string{"orders:*"}))
	fmt.Println(p.Granted([]string{"*:order:read"})) // a wildcard service is in no namespace
	fmt.Println(p.Granted([]string{"ordersx:*"}))    // a whole segment, not a prefix
	// Output:
	// true
	// false
	// false
}

func ExampleAny() {
	admin := pdp.MustActivity("orders:admin")
	p := pdp.All(pdp.ValidToken(), pdp.Any(admin, pdp.MustActivity("orders:order:read")))
	ctx := context.Background()
	fmt.Println(p.Decide(ctx, &pip.Subject{Activities: []string{"orders:admin"}}))
	fmt.Println(p.Decide(ctx, &pip.Subject{Activities: []string{"orders:order:read"}}))
	fmt.Println(p.Decide(ctx, &pip.Subject{Activities: []string{"billing:*"}}) != nil)
	// Output:
	// <nil>
	// <nil>
	// true
}

func ExampleRequire() {
	read := pdp.MustActivity("orders:order:read")
	h := pdp.Require(read)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"orders":[]}`)
	}))

	for _, s := range []*pip.Subject{
		nil, // no token
		{ID: "u1", Activities: []string{"orders:order:write"}},
		{ID: "u2", Activities: []string{"orders:order:read"}},
	} {
		r := httptest.NewRequest("GET", "/orders", nil)
		if s != nil { // what the policy-information step does
			r = r.WithContext(pip.NewContext(r.Context(), s))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
	}
	// Output:
	// 401 Bearer {"error":"authentication required","code":401,"step":"authorize","ctx":{}}
	// 403 Bearer error="insufficient_scope" {"error":"insufficient permissions","code":403,"step":"authorize","ctx":{}}
	// 200  {"orders":[]}
}

func ExampleValidToken() {
	p := pdp.ValidToken()
	fmt.Println(p.Decide(context.Background(), &pip.Subject{ID: "u1"}))
	fmt.Println(p.Decide(context.Background(), nil))
	// Output:
	// <nil>
	// pdp: no authenticated subject
}
