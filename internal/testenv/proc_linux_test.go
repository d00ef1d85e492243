package testenv

import "testing"

func TestParseStat(t *testing.T) {
	tests := []struct {
		name        string
		stat        string
		wantState   byte
		wantSession int
		wantOK      bool
	}{
		{"plain", "4815 (aws-lambda-rie) S 1 4815 4815 0 -1 4194560", 'S', 4815, true},
		{"comm with spaces and parens", "77 (a) b (c) R 10 77 12 0 -1", 'R', 12, true},
		{"zombie", "9 (bootstrap) Z 1 9 4815 0", 'Z', 4815, true},
		{"no comm", "9 bootstrap S 1 9 4815", 0, 0, false},
		{"too short", "9 (bootstrap) S 1 9", 0, 0, false},
		{"bad session", "9 (bootstrap) S 1 9 x", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, session, ok := parseStat([]byte(tt.stat))
			if state != tt.wantState || session != tt.wantSession || ok != tt.wantOK {
				t.Errorf("parseStat(%q) = %q, %d, %v; want %q, %d, %v",
					tt.stat, state, session, ok, tt.wantState, tt.wantSession, tt.wantOK)
			}
		})
	}
}
