package session_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/funcify/funcify/session"
)

func ExampleMiddleware() {
	h := session.Middleware(session.Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		theme, _ := s.Get("theme")
		if err := s.Set("theme", "dark", session.MaxAge(365*24*time.Hour)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "theme was %s", theme)
	}))

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "theme=light")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Body)
	fmt.Println(w.Header().Get("Set-Cookie"))
	// Output:
	// theme was light
	// theme=dark; Path=/; Max-Age=31536000; Secure; HttpOnly; SameSite=Lax
}

func ExampleSession_Delete() {
	h := session.Middleware(session.Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromRequest(r).Delete("sid", session.Domain("example.com"))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/logout", nil))
	fmt.Println(w.Header().Get("Set-Cookie"))
	// Output:
	// sid=; Path=/; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; SameSite=Lax
}

func ExampleSession_SetSealed() {
	keys, err := session.ParseKeys(base64.StdEncoding.EncodeToString(make([]byte, session.KeySize))) // use real random keys
	if err != nil {
		panic(err)
	}
	sealer, err := session.NewSealer(keys...)
	if err != nil {
		panic(err)
	}
	h := session.Middleware(session.Options{Sealer: sealer})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		n := 0
		if v, ok := s.GetSealed("visits"); ok {
			n, _ = strconv.Atoi(v)
		}
		n++
		if err := s.SetSealed("visits", strconv.Itoa(n), 30*24*time.Hour); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "visits: %d", n)
	}))

	var cookie string
	for range 2 {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		cookie, _, _ = strings.Cut(w.Header().Get("Set-Cookie"), ";")
		fmt.Println(w.Body)
	}
	// Output:
	// visits: 1
	// visits: 2
}

func ExampleSealer() {
	sealer, err := session.NewSealer(make([]byte, session.KeySize)) // use a real random key
	if err != nil {
		panic(err)
	}
	now := time.Now()
	sealed := sealer.Seal("sid", "user-42", now.Add(time.Hour))

	v, err := sealer.Open("sid", sealed, now)
	fmt.Println(v, err)
	_, err = sealer.Open("other", sealed, now)
	fmt.Println(err)
	_, err = sealer.Open("sid", sealed, now.Add(2*time.Hour))
	fmt.Println(err)
	// Output:
	// user-42 <nil>
	// session: sealed value does not open
	// session: sealed value expired
}

func ExampleKeysFromEnv() {
	// In a deployment the variable is set outside, for example to two keys
	// while rotating: FUNCIFY_SESSION_KEYS=<new>,<old>.
	keys, err := session.KeysFromEnv("FUNCIFY_SESSION_KEYS_UNSET")
	fmt.Println(len(keys), err)
	// Output:
	// 0 session: no sealing keys: FUNCIFY_SESSION_KEYS_UNSET is not set
}
