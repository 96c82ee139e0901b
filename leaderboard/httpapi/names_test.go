package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestGuestNames: sign-in holds every name to the one display-name rule
// (internal/displayname): a 400 that names the broken rule, or a 201 with
// the name as other players will see it.
func TestGuestNames(t *testing.T) {
	e := start(t)
	tests := []struct {
		name, body string
		want       int
		detail     string // in the problem's detail, or the name stored
	}{
		{"plain", `{"name":"ada"}`, 201, "ada"},
		{"spaces collapse", `{"name":"  Ada   Lovelace "}`, 201, "Ada Lovelace"},
		{"fullwidth becomes ASCII", `{"name":"ｆｕｌｌ"}`, 201, "full"},
		{"non-Latin", `{"name":"日本語の名前"}`, 201, "日本語の名前"},
		{"C0 escape", `{"name":"x\u001b[31m"}`, 400, "U+001B at character 2, a control character"},
		// The example: C1 controls (CSI and NEL) got through.
		{"C1 escape", `{"name":"x\u009b31mred\u0085"}`, 400, "U+009B at character 2, a control character"},
		{"right-to-left override", `{"name":"evil\u202egnp.exe"}`, 400, "U+202E at character 5, a bidirectional control"},
		{"zero-width space", `{"name":"ad\u200ba"}`, 400, "U+200B at character 3, an invisible (default-ignorable) character"},
		{"Hangul filler", `{"name":"\u3164"}`, 400, "invisible"},
		{"private use", `{"name":"a\ue000"}`, 400, "PRECIS nickname profile (RFC 8266)"},
		{"Zalgo", `{"name":"Z\u0301\u0302\u0303\u0304"}`, 400, "combining marks in a row"},
		{"only spaces", `{"name":"   "}`, 400, "name is empty"},
		{"25 characters", `{"name":"` + strings.Repeat("é", 25) + `"}`, 400, "longer than 24 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, "POST", e.url+"/v1/auth/guest", tt.body, "Content-Type", "application/json")
			if resp.StatusCode != tt.want {
				t.Fatalf("POST /v1/auth/guest %s = %d %s, want %d", tt.body, resp.StatusCode, body, tt.want)
			}
			var got struct{ Name, Detail string }
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if tt.want == 201 && got.Name != tt.detail {
				t.Errorf("name = %q, want %q", got.Name, tt.detail)
			}
			if tt.want == 400 && !strings.Contains(got.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", got.Detail, tt.detail)
			}
		})
	}
}

// TestBoardTitles: board titles follow the same rule.
func TestBoardTitles(t *testing.T) {
	e := start(t)
	auth := []string{"Authorization", "Bearer " + adminKey, "Content-Type", "application/json"}
	resp, body := do(t, "PUT", e.url+"/v1/admin/leaderboards/damage", `{"title":"Dam\u202eage","operator":"best","metric":"damage"}`, auth...)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "bidirectional control") {
		t.Errorf("PUT board with a bidi control in its title = %d %s, want 400 naming the rule", resp.StatusCode, body)
	}
	resp, body = do(t, "PUT", e.url+"/v1/admin/leaderboards/dam%0Aage", `{"title":"Damage","operator":"best","metric":"damage"}`, auth...)
	if resp.StatusCode != 400 {
		t.Errorf("PUT board with a newline in its id = %d %s, want 400", resp.StatusCode, body)
	}
}
