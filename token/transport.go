package token

import (
	"errors"
	"io"
	"net/http"
)

// Transport is an http.RoundTripper that sends each request with
// "Authorization: Bearer" and a token from Source. When the downstream
// answers 401, it invalidates that token ([Source.Invalidate]) and sends the
// request once more with a new one, if the request has no body or can
// replay it (http.NewRequest sets GetBody for in-memory bodies); otherwise
// the 401 is returned as is. Invalidate keeps a token younger than a
// minute, and drops at most one token a minute: then the Source serves the
// same token, and the 401 is returned as is rather than sent again, so that
// a downstream that refuses every token costs at most one grant a minute,
// not one per call. The request is cloned, never modified.
//
// A Transport is safe for concurrent use.
type Transport struct {
	// Base sends the requests. Default http.DefaultTransport.
	Base http.RoundTripper
	// Source gives the tokens. Required.
	Source *Source
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if t.Source == nil {
		closeBody()
		return nil, errors.New("token: Transport.Source is nil")
	}
	ctx := req.Context()
	tok, err := t.Source.Token(ctx)
	if err != nil {
		closeBody()
		return nil, err
	}
	resp, err := t.base().RoundTrip(authorized(req, tok, req.Body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		return resp, nil
	}
	_ = t.Source.Invalidate(ctx, tok)
	next, err := t.Source.Token(ctx)
	if err != nil || next.AccessToken == tok.AccessToken {
		return resp, nil // the 401 stands
	}
	body := req.Body
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	return t.base().RoundTrip(authorized(req, next, body))
}

func authorized(req *http.Request, tok *Token, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.Body = body
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return r
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}
