// Package agones runs a gameserver under Agones: a Client for the Agones
// SDK sidecar's REST API (the gRPC gateway the sidecar serves on
// localhost:AGONES_SDK_HTTP_PORT), and a Driver that walks the GameServer
// through its lifecycle: read the public address and ports, Ready, health
// pings while rooms tick, Allocated while rooms are hosted and Ready again
// when empty, room and player counts in Counters (or labels), and on
// SIGTERM or a watched Shutdown: drain, publish the outbox, then Shutdown.
//
// The contract followed is the one of Agones 1.56 (sdk-server v1.56.0), as
// observed against the real sidecar (docs/scaling.md, "Agones"). The Go SDK
// module is not used: the REST API needs nothing but net/http.
package agones

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultPort is the sidecar's HTTP port when AGONES_SDK_HTTP_PORT is unset.
const DefaultPort = 9358

// PortEnv is the variable the Agones controller sets in a GameServer's
// containers to the sidecar's HTTP port.
const PortEnv = "AGONES_SDK_HTTP_PORT"

// GameServer states, as status.state holds them.
const (
	StateScheduled    = "Scheduled"
	StateRequestReady = "RequestReady"
	StateReady        = "Ready"
	StateAllocated    = "Allocated"
	StateReserved     = "Reserved"
	StateShutdown     = "Shutdown"
	StateUnhealthy    = "Unhealthy"
	StateError        = "Error"
)

// Present reports whether the process runs beside an Agones sidecar: the
// controller sets AGONES_SDK_HTTP_PORT in every GameServer container.
func Present(getenv func(string) string) bool {
	if getenv == nil {
		getenv = os.Getenv
	}
	return getenv(PortEnv) != ""
}

// SidecarAddr is the sidecar's base URL from AGONES_SDK_HTTP_PORT
// (default 9358) on localhost; an unusable port is an error naming it.
func SidecarAddr(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	port := DefaultPort
	if v := getenv(PortEnv); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return "", fmt.Errorf("%s=%q: want a port number", PortEnv, v)
		}
		port = p
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port), nil
}

// Int64 is an int64 that the sidecar writes as a JSON string ("10") and
// that is also read from a JSON number.
type Int64 int64

// UnmarshalJSON accepts "10" and 10.
func (n *Int64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("int64 %s: %w", b, err)
	}
	*n = Int64(v)
	return nil
}

// GameServer is the part of the sidecar's GameServer that Skirmish reads.
// Field names are the proto names the sidecar sends (snake_case).
type GameServer struct {
	ObjectMeta struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"object_meta"`
	Status struct {
		State     string `json:"state"`
		Address   string `json:"address"`
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
		Ports []struct {
			Name string `json:"name"`
			Port int32  `json:"port"`
		} `json:"ports"`
		Counters map[string]Counter `json:"counters"`
	} `json:"status"`
}

// Port returns the host port named name (the Fleet's port name), or 0.
func (gs *GameServer) Port(name string) int32 {
	for _, p := range gs.Status.Ports {
		if p.Name == name {
			return p.Port
		}
	}
	return 0
}

// Counter is an Agones Counter: its count and capacity.
type Counter struct {
	Name     string `json:"name"`
	Count    Int64  `json:"count"`
	Capacity Int64  `json:"capacity"`
}

// APIError is a non-200 answer of the sidecar: the HTTP status and the
// gRPC status the gateway puts in the body ({"code":2,"message":...}).
type APIError struct {
	Method, Path string
	Status       int
	Code         int
	Message      string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("agones sidecar %s %s: HTTP %d", e.Method, e.Path, e.Status)
	}
	return fmt.Sprintf("agones sidecar %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
}

// NotFound reports whether the sidecar said the counter, list or value
// does not exist. The sidecar answers these with HTTP 500 and gRPC code 2
// and a message that starts "not found."; a wrong path is a 404.
func (e *APIError) NotFound() bool {
	return e.Status == http.StatusNotFound || strings.HasPrefix(e.Message, "not found.")
}

// IsNotFound reports whether err is an APIError that means not found.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.NotFound()
}

// Client calls the sidecar's REST API. Every call is one HTTP request,
// bounded by ctx and by the client's timeout; nothing is retried here (the
// Driver retries).
type Client struct {
	base string
	http *http.Client
}

// NewClient makes a Client for the sidecar at base (e.g.
// "http://127.0.0.1:9358"); hc nil uses a client with a 5 s timeout, which
// Watch does not use.
func NewClient(base string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// do sends one request with a JSON body (nil sends none) and decodes a
// 200 answer into out (nil discards it).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("agones sidecar %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("agones sidecar %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("agones sidecar %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("agones sidecar %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return apiError(method, path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("agones sidecar %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// maxBody bounds an answer read from the sidecar (a GameServer with large
// lists is well under it).
const maxBody = 4 << 20

func apiError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var st struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &st) == nil {
		e.Code, e.Message = st.Code, st.Message
	}
	return e
}

// empty is the body of the calls that take an SDK Empty message; the
// sidecar rejects an empty body on /health with 400.
var empty = struct{}{}

// GameServer reads GET /gameserver.
func (c *Client) GameServer(ctx context.Context) (*GameServer, error) {
	var gs GameServer
	if err := c.do(ctx, http.MethodGet, "/gameserver", nil, &gs); err != nil {
		return nil, err
	}
	return &gs, nil
}

// Ready sends POST /ready. In a cluster the state becomes RequestReady,
// then Ready once the controller has acted.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/ready", empty, nil)
}

// Health sends one health ping, POST /health with body {}.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/health", empty, nil)
}

// Allocate sends POST /allocate: the GameServer becomes Allocated, so
// that fleet scale-down and rolling updates leave it alone.
func (c *Client) Allocate(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/allocate", empty, nil)
}

// Shutdown sends POST /shutdown: Agones deletes the GameServer and its
// pod.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/shutdown", empty, nil)
}

// SetLabel sets the label agones.dev/sdk-<key> on the GameServer.
func (c *Client) SetLabel(ctx context.Context, key, value string) error {
	return c.do(ctx, http.MethodPut, "/metadata/label", map[string]string{"key": key, "value": value}, nil)
}

// SetCounter sets a Counter's count (PATCH /v1beta1/counters/{name}
// {"count":n}) and returns it as the sidecar holds it. A count above the
// capacity is an APIError ("out of range."); a counter the GameServer
// does not declare is one that IsNotFound.
func (c *Client) SetCounter(ctx context.Context, name string, count int64) (Counter, error) {
	return c.patchCounter(ctx, name, map[string]string{"count": strconv.FormatInt(count, 10)})
}

// SetCounterCapacity sets a Counter's capacity.
func (c *Client) SetCounterCapacity(ctx context.Context, name string, capacity int64) (Counter, error) {
	return c.patchCounter(ctx, name, map[string]string{"capacity": strconv.FormatInt(capacity, 10)})
}

func (c *Client) patchCounter(ctx context.Context, name string, body map[string]string) (Counter, error) {
	var ct Counter
	err := c.do(ctx, http.MethodPatch, "/v1beta1/counters/"+name, body, &ct)
	return ct, err
}

// Watch streams GET /watch/gameserver and calls fn with each GameServer
// the sidecar sends (the first is the current state), until ctx ends, the
// stream ends (io.EOF) or fails. Lines are newline-delimited
// {"result":{...}} or {"error":{...}} messages; a line longer than 4 MiB
// is an error.
func (c *Client) Watch(ctx context.Context, fn func(*GameServer)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/watch/gameserver", nil)
	if err != nil {
		return fmt.Errorf("agones sidecar watch: %w", err)
	}
	// The stream stays open: no client timeout, only ctx.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("agones sidecar watch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		return apiError(http.MethodGet, "/watch/gameserver", resp.StatusCode, data)
	}
	return readWatch(resp.Body, fn)
}

// readWatch decodes the watch stream's lines.
func readWatch(r io.Reader, fn func(*GameServer)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxBody)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var msg struct {
			Result *GameServer `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(line, &msg); err != nil {
			return fmt.Errorf("agones sidecar watch: bad message: %w", err)
		}
		if msg.Error != nil {
			return &APIError{Method: http.MethodGet, Path: "/watch/gameserver", Status: http.StatusOK, Code: msg.Error.Code, Message: msg.Error.Message}
		}
		if msg.Result != nil {
			fn(msg.Result)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("agones sidecar watch: %w", err)
	}
	return io.EOF
}
