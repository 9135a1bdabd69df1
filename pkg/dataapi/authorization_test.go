package dataapi

import (
	"maps"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		header string
		want   Authorization
	}{
		{"MTAuth accessToken=abc", Authorization{"accessToken": "abc"}},
		{"MTAuth sessionId=s1, accessToken=t1", Authorization{"sessionId": "s1", "accessToken": "t1"}},
		{"MTAuth sessionId=s1 accessToken=t1", Authorization{"sessionId": "s1", "accessToken": "t1"}},
		{"MTAuth   sessionId=s1,,,accessToken=t1  ", Authorization{"sessionId": "s1", "accessToken": "t1"}},
		{"MTAuth\tsessionId=s1", Authorization{"sessionId": "s1"}},
		{`MTAuth accessToken="quoted value"`, Authorization{"accessToken": "quoted value"}},
		// Movable Type mis-parses several quoted values; we do not.
		{`MTAuth sessionId="a b", accessToken='c,d'`, Authorization{"sessionId": "a b", "accessToken": "c,d"}},
		{`MTAuth accessToken="unterminated`, Authorization{"accessToken": "unterminated"}},
		{"MTAuth accessToken=", Authorization{"accessToken": ""}},
		{"MTAuth accessToken=, sessionId=s", Authorization{"accessToken": "", "sessionId": "s"}},
		{"MTAuth accessToken=a, accessToken=b", Authorization{"accessToken": "b"}},
		{"MTAuth junk sessionId=s", Authorization{"sessionId": "s"}},
		{"MTAuth =x sessionId=s", Authorization{"sessionId": "s"}},
		{"MTAuth oneTimeToken=o", Authorization{"oneTimeToken": "o"}},
		{"MTAuth x=1=2", Authorization{"x": "1=2"}},
		{"MTAuth ", Authorization{}},
		{"MTAuth", nil},
		{"mtauth accessToken=abc", nil},
		{"MTAUTH accessToken=abc", nil},
		{"Bearer abc", nil},
		{"MTAuthaccessToken=abc", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got := ParseAuthorization(tt.header)
		if !maps.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("ParseAuthorization(%q) = %#v, want %#v", tt.header, got, tt.want)
		}
	}
}
