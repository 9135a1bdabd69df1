package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/storage"
)

// The audit log, section 10 of the contract: one JSON object per line
// (log/slog's JSONHandler, which CloudWatch Logs Insights queries), with
// the event, the user, the client id, the client's address as API Gateway
// saw it and API Gateway's request id.
//
// What each event carries:
//
//	signed_in        user, userId, clientId, remember (oneTimeToken: true for the blog flow)
//	sign_in_refused  reason, user, clientId
//	signed_out       user, clientId
//	token_revoked    user (an access token does not know its client)
//	locked_out       subject (user or ip), key (user:NAME or ip:ADDRESS), failures, until
//	storage_failure  op, error
//
// and every line also time, level, msg, requestId, ip, endpoint, version.

// wantFields checks an event has these fields; "*" means any non-empty
// value.
func wantFields(t *testing.T, what string, e map[string]any, fields map[string]string) {
	t.Helper()
	for k, want := range fields {
		got, ok := e[k]
		switch {
		case !ok:
			t.Errorf("%s: no %q field in %v", what, k, e)
		case want == "*" && fmt.Sprint(got) == "":
			t.Errorf("%s: %q is empty in %v", what, k, e)
		case want != "*" && fmt.Sprint(got) != want:
			t.Errorf("%s: %q = %v, want %s", what, k, got, want)
		}
	}
}

// eventOf returns the one audit event named name that request a logged.
func eventOf(t *testing.T, h *harness, a answer, name string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, e := range h.logs.events(t, name) {
		if e["requestId"] == a.requestID {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("request %s logged %d %s events, want 1; log:\n%s", a.requestID, len(found), name, h.logs.String())
	}
	return found[0]
}

func TestAuditEvents(t *testing.T) {
	h := newHarness(t, nil)
	pw := h.addUser(t, "melody")
	const ip = "203.0.113.9"
	req := func(c call) call {
		// The forwarded address is the client's to choose, so never logged.
		return c.from(ip).with("X-Forwarded-For", "198.51.100.250")
	}
	common := func(a answer) map[string]string {
		return map[string]string{"requestId": a.requestID, "ip": ip, "time": "*", "level": "*", "msg": "*"}
	}
	with := func(base map[string]string, more map[string]string) map[string]string {
		for k, v := range more {
			base[k] = v
		}
		return base
	}

	t.Run("signed_in", func(t *testing.T) {
		form := signInForm("melody", pw)
		form.Set("remember", "1")
		a := h.do(t, req(post("/v4/authentication", form)))
		wantStatus(t, a, 200)
		wantFields(t, "signed_in", eventOf(t, h, a, "signed_in"), with(common(a), map[string]string{
			"user": "melody", "userId": "*", "clientId": "test", "remember": "true", "level": "INFO",
			"endpoint": "authenticate", "version": "4",
		}))
	})

	t.Run("signed_in for a one-time token", func(t *testing.T) {
		form := signInForm("melody", pw)
		form.Set("redirect_type", "blog")
		a := h.do(t, req(post("/v4/authentication", form)))
		wantStatus(t, a, 200)
		wantFields(t, "signed_in", eventOf(t, h, a, "signed_in"), with(common(a), map[string]string{
			"user": "melody", "clientId": "test", "oneTimeToken": "true",
		}))
	})

	t.Run("sign_in_refused", func(t *testing.T) {
		if _, err := h.probe.Service.AddUser(t.Context(), auth.NewUser{Username: "nobody-may", Password: "x"}); err != nil {
			t.Fatal(err)
		}
		disabledPW := h.addUser(t, "gone")
		if err := h.probe.Service.SetStatus(t.Context(), "gone", storage.UserDisabled); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			user, pw, reason string
			version          int
		}{
			{"melody", "wrong", "wrong password", 4},
			{"ghost", "wrong", "unknown user", 4},
			{"gone", disabledPW, "user is disabled", 4},
			{"nobody-may", "x", "user lacks the sign_in_data_api permission", 1},
			{"melody", pw, "no password of the required kind is set", 1},
		} {
			a := h.do(t, req(post(fmt.Sprintf("/v%d/authentication", tt.version), signInForm(tt.user, tt.pw))))
			wantError(t, a, 401, "Invalid login")
			// The reason goes to the log, never to the client.
			if strings.Contains(a.body, tt.reason) {
				t.Errorf("the answer tells the reason: %s", a.body)
			}
			wantFields(t, "sign_in_refused", eventOf(t, h, a, "sign_in_refused"), with(common(a), map[string]string{
				"user": tt.user, "clientId": "test", "reason": tt.reason, "level": "WARN",
			}))
		}
	})

	t.Run("signed_out", func(t *testing.T) {
		s := h.signIn(t, "melody", pw)
		a := h.do(t, req(del("/v4/authentication").auth(bySession(s.id))))
		wantStatus(t, a, 200)
		wantFields(t, "signed_out by session id", eventOf(t, h, a, "signed_out"), with(common(a), map[string]string{
			"user": "melody", "clientId": "test", "endpoint": "revoke_authentication",
		}))

		s = h.signIn(t, "melody", pw)
		a = h.do(t, req(del("/v4/authentication").auth(byToken(s.token))))
		wantStatus(t, a, 200)
		// The session that was signed out has a client id, however the
		// request named it.
		wantFields(t, "signed_out by access token", eventOf(t, h, a, "signed_out"), with(common(a), map[string]string{
			"user": "melody", "clientId": "test",
		}))
	})

	t.Run("token_revoked", func(t *testing.T) {
		s := h.signIn(t, "melody", pw)
		a := h.do(t, req(del("/v4/token").auth(byToken(s.token))))
		wantStatus(t, a, 200)
		e := eventOf(t, h, a, "token_revoked")
		wantFields(t, "token_revoked", e, with(common(a), map[string]string{"user": "melody", "endpoint": "revoke_token"}))
		if _, ok := e["clientId"]; !ok {
			t.Logf("token_revoked carries no clientId: the token item does not record its session's client")
		}
	})

	t.Run("locked_out", func(t *testing.T) {
		h := newHarness(t, nil)
		var last answer
		for range 6 {
			last = h.do(t, req(post("/v4/authentication", signInForm("target", "wrong"))))
		}
		wantFields(t, "locked_out user", eventOf(t, h, last, "locked_out"), with(common(last), map[string]string{
			"subject": "user", "key": "user:target", "failures": "6", "until": "*", "level": "WARN",
		}))
		// The address has failed 6 times; 4 more lock it.
		for i := range 4 {
			last = h.do(t, req(post("/v4/authentication", signInForm(fmt.Sprintf("other%d", i), "wrong"))))
		}
		wantFields(t, "locked_out ip", eventOf(t, h, last, "locked_out"), with(common(last), map[string]string{
			"subject": "ip", "key": "ip:" + ip, "failures": "10", "until": "*",
		}))
	})

	t.Run("every line", func(t *testing.T) {
		for _, rec := range h.logs.records(t) {
			wantFields(t, "log line", rec, map[string]string{"time": "*", "level": "*", "msg": "*"})
			if _, isEvent := rec["event"]; isEvent {
				wantFields(t, fmt.Sprint(rec["event"]), rec, map[string]string{"requestId": "*", "ip": "*"})
				if rec["ip"] == "198.51.100.250" {
					t.Errorf("%v logs the X-Forwarded-For address as the client's", rec["event"])
				}
			}
		}
	})
}

// TestAuditStorageFailure: an outage is logged with the failed operation
// and the cause, and the client sees only 503.
func TestAuditStorageFailure(t *testing.T) {
	h := newHarness(t, nil)
	fx := baseFixture(t, h)
	h.faults.arm(fault{op: txWrite, err: kind500})
	a := h.do(t, post("/v4/token", nil).auth(bySession(fx.s.id)))
	h.faults.disarm()
	wantError(t, a, 503, "Service Unavailable")
	e := eventOf(t, h, a, "storage_failure")
	wantFields(t, "storage_failure", e, map[string]string{"op": "add access token", "error": "*", "level": "ERROR", "requestId": a.requestID, "ip": defaultIP})
	if !strings.Contains(fmt.Sprint(e["error"]), "InternalServerError") {
		t.Errorf("storage_failure error %q does not name the cause", e["error"])
	}
}
