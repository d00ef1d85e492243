// Package breakerclock lets funcify's own packages run a circuit breaker on
// a clock of their choosing, while breaker.Settings has no exported clock.
//
// funcify injects time one way: an unexported hook, set by a package's own
// tests through an export_test.go. A package that builds a breaker.Breaker
// with a clock injected into itself (jwtauth, token) must hand that clock
// on, or its tests could not move the breaker's time; and the tests of a
// package that takes a Breaker (httpclient) must move it too. An
// export_test.go in breaker cannot serve them, so breaker registers its
// setter here, in an internal package that only funcify can import.
//
//	s := breaker.Settings{Name: "idp"}
//	breakerclock.Set(&s, clk.Now)
//	b := breaker.New(s)
package breakerclock

import "time"

// set is breaker's setter, registered by its init.
var set func(settings any, now func() time.Time)

// Register installs the setter that [Set] calls. Package breaker calls it in
// its init; nothing else should.
func Register(f func(settings any, now func() time.Time)) { set = f }

// Set makes the breaker built from *settings, a *breaker.Settings, read the
// time from now instead of time.Now: the clock that decides its windows,
// stand-downs and trial timeouts. A nil now means time.Now. It panics if
// settings is not a *breaker.Settings.
func Set(settings any, now func() time.Time) {
	if set == nil {
		panic("breakerclock: package breaker is not linked")
	}
	set(settings, now)
}
