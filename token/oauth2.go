package token

import (
	"context"
	"time"

	"golang.org/x/oauth2"
)

// OAuth2Timeout bounds each call of the oauth2.TokenSource that
// [Source.OAuth2] returns.
const OAuth2Timeout = 30 * time.Second

// OAuth2 returns the Source as an oauth2.TokenSource, for
// oauth2.NewClient and the libraries that take one:
//
//	client := oauth2.NewClient(ctx, src.OAuth2())
//
// oauth2.TokenSource's Token method has no context, so each call uses
// context.Background() bounded by [OAuth2Timeout], not the invocation's
// deadline. oauth2.NewClient also caches the token itself until 10 seconds
// before its expiry, so neither the random refresh window nor
// [Source.Invalidate] reach it: prefer [Transport], which asks the Source
// on every request (a memory read) and retries once on a 401.
func (s *Source) OAuth2() oauth2.TokenSource { return oauth2Source{s} }

type oauth2Source struct{ s *Source }

func (o oauth2Source) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), OAuth2Timeout)
	defer cancel()
	t, err := o.s.Token(ctx)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}, nil
}
