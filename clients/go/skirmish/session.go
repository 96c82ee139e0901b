package skirmish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Session is a signed-in player.
type Session struct {
	PlayerID  string    `json:"player_id"`
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SignInGuest creates a guest player on the leaderboard service at baseURL
// (e.g. http://127.0.0.1:7820) and returns its session.
func SignInGuest(ctx context.Context, hc *http.Client, baseURL, name string) (Session, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	body, err := json.Marshal(map[string]string{"name": name})
	if err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/auth/guest", bytes.NewReader(body))
	if err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Session{}, fmt.Errorf("sign in: read response: %w", err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return Session{}, fmt.Errorf("sign in: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var s Session
	if err := json.Unmarshal(b, &s); err != nil {
		return Session{}, fmt.Errorf("sign in: decode response: %w", err)
	}
	if s.Token == "" || s.PlayerID == "" {
		return Session{}, fmt.Errorf("sign in: response has no token or player id")
	}
	return s, nil
}
