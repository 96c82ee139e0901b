// Package agonestest is a stand-in for the Agones SDK sidecar's REST API,
// for tests: an httptest server built from the contract observed against
// the real sidecar of Agones 1.56 (sdk-server v1.56.0), behaving as the
// sidecar does in a cluster, not in local mode. The real sidecar cannot
// run in this repository's tests (it needs Kubernetes, or a separate
// binary in local mode that does not enforce health or the state diagram).
//
// What it models:
//   - paths, methods and bodies: GET /gameserver, POST /ready, /health,
//     /allocate, /reserve, /shutdown, PUT /metadata/label and
//     /metadata/annotation, GET and PATCH /v1beta1/counters/{name},
//     GET /watch/gameserver (newline-delimited {"result":{...}});
//   - errors as the gateway sends them: 501 {"code":12} for a wrong
//     method, 404 {"code":5} for an unknown path, 400 {"code":3} for bad
//     JSON (and for an empty /health body), 500 {"code":2,"message":"not
//     found. ..."} or "out of range. ..." for counters, 400 {"code":3} for
//     a label key that is no qualified name;
//   - JSON as the sidecar writes it: proto (snake_case) names, int64 as
//     strings, whitespace in unary answers but not in watch lines;
//   - the states of a cluster: Scheduled at start; Ready goes to
//     RequestReady, and the controller moves it to Ready a little later;
//     Allocated, Reserved (back to Ready after its seconds); Shutdown and
//     Unhealthy are final (later state calls answer 200 and are dropped);
//   - health as the cluster enforces it: after InitialDelay, every Period
//     without a ping is a failure, FailureThreshold failures in a row make
//     the GameServer Unhealthy;
//   - watch events on state calls, labels and annotations, even when
//     nothing changed; none on health pings or counter changes;
//   - a sidecar that is down: SetDown(true) drops every connection;
//     DownAfter makes it go down right after applying a call, before
//     answering it, so the caller cannot tell whether it was applied.
package agonestest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config describes the GameServer the stand-in serves; zero fields take
// the defaults shown.
type Config struct {
	Name    string           // "skirmish-gameserver-abcde"
	Address string           // "203.0.113.7"
	Ports   map[string]int32 // {"ws": 7042, "wt": 7043}
	// Counters the GameServer declares, with their capacity.
	Counters map[string]int64
	// ReadyDelay is how long the controller takes to move RequestReady to
	// Ready (20 ms).
	ReadyDelay time.Duration
	// Health enforcement, as spec.health: InitialDelay (1 s: the kubelet's
	// first liveness probe), Period (100 ms) and FailureThreshold (3).
	// HealthDisabled turns it off.
	InitialDelay, Period time.Duration
	FailureThreshold     int
	HealthDisabled       bool
	// OnCall, when set, is called with "METHOD /path" as each request
	// arrives, before it is answered (also while the sidecar is down), so
	// a test can check what holds at the moment of a call.
	OnCall func(call string)
}

// Call is one request the stand-in answered.
type Call struct {
	Method, Path string
	Body         string
	Status       int    // the HTTP status answered
	State        string // status.state after the call
	At           time.Time
}

// String is "METHOD /path".
func (c Call) String() string { return c.Method + " " + c.Path }

type counter struct{ count, capacity int64 }

// Sidecar is the stand-in. Its methods are safe for concurrent use.
type Sidecar struct {
	cfg Config
	srv *httptest.Server

	mu          sync.Mutex
	state       string
	labels      map[string]string
	annotations map[string]string
	counters    map[string]*counter
	calls       []Call
	refused     []Call // attempts while down
	pings       int
	lastPing    time.Time
	down        bool
	downAfter   string // "METHOD /path" to apply, then go down unanswered
	watchers    map[chan []byte]struct{}
	changed     chan struct{} // closed and replaced on every state change
	stop        chan struct{}
	wg          sync.WaitGroup
	reserveGen  int
}

// Start serves a stand-in sidecar on a loopback port until Close.
func Start(cfg Config) *Sidecar {
	if cfg.Name == "" {
		cfg.Name = "skirmish-gameserver-abcde"
	}
	if cfg.Address == "" {
		cfg.Address = "203.0.113.7"
	}
	if cfg.Ports == nil {
		cfg.Ports = map[string]int32{"ws": 7042, "wt": 7043}
	}
	if cfg.ReadyDelay <= 0 {
		cfg.ReadyDelay = 20 * time.Millisecond
	}
	if cfg.InitialDelay <= 0 {
		cfg.InitialDelay = time.Second
	}
	if cfg.Period <= 0 {
		cfg.Period = 100 * time.Millisecond
	}
	if cfg.FailureThreshold <= 0 {
		cfg.FailureThreshold = 3
	}
	s := &Sidecar{
		cfg: cfg, state: "Scheduled",
		labels: map[string]string{}, annotations: map[string]string{},
		counters: map[string]*counter{}, watchers: map[chan []byte]struct{}{},
		changed: make(chan struct{}), stop: make(chan struct{}),
	}
	for name, capacity := range cfg.Counters {
		s.counters[name] = &counter{capacity: capacity}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if !cfg.HealthDisabled {
		s.wg.Add(1)
		go s.enforceHealth()
	}
	return s
}

// URL is the base URL, e.g. http://127.0.0.1:41234.
func (s *Sidecar) URL() string { return s.srv.URL }

// Port is the port of URL, as AGONES_SDK_HTTP_PORT would hold it.
func (s *Sidecar) Port() string { return s.srv.URL[strings.LastIndex(s.srv.URL, ":")+1:] }

// Close stops the health checker and the server, ending watch streams.
func (s *Sidecar) Close() {
	s.mu.Lock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.wg.Wait()
}

// SetDown makes the sidecar drop every connection (true), as a sidecar
// that has not started or has crashed, or serve again (false).
func (s *Sidecar) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
	if down {
		s.srv.CloseClientConnections()
	}
}

// DownAfter makes the next call "METHOD /path" (not the watch) be
// applied and recorded, and then the sidecar go down before answering it,
// as a sidecar that crashes right after a call takes effect: the caller
// sees its connection dropped. SetDown(false) serves again.
func (s *Sidecar) DownAfter(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downAfter = call
}

// Refused returns the calls attempted while the sidecar was down, with
// their bodies, in order (Status 0: none was answered).
func (s *Sidecar) Refused() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.refused...)
}

// SetState changes the state as the controller or an operator would
// (e.g. Shutdown when the GameServer is deleted), with a watch event.
func (s *Sidecar) SetState(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setStateLocked(state, true)
}

// State is status.state now.
func (s *Sidecar) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Calls returns the requests answered so far, in order.
func (s *Sidecar) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Pings is the number of accepted health pings.
func (s *Sidecar) Pings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pings
}

// Counter returns a counter's count and capacity, and whether it exists.
func (s *Sidecar) Counter(name string) (count, capacity int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters[name]
	if c == nil {
		return 0, 0, false
	}
	return c.count, c.capacity, true
}

// Label returns the label agones.dev/sdk-<key>.
func (s *Sidecar) Label(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.labels["agones.dev/sdk-"+key]
}

// WaitFor waits until cond, checked after every call (also refused ones
// while down) and state change, holds; false when ctx ends first.
func (s *Sidecar) WaitFor(ctx context.Context, cond func() bool) bool {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return cond()
		}
	}
}

// WaitState waits until status.state is state.
func (s *Sidecar) WaitState(ctx context.Context, state string) bool {
	return s.WaitFor(ctx, func() bool { return s.State() == state })
}

// notifyLocked wakes WaitFor.
func (s *Sidecar) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// final states cannot be left ("there is no escaping" in the sidecar).
func final(state string) bool { return state == "Shutdown" || state == "Unhealthy" }

// setStateLocked applies a state change unless the state is final, and
// sends a watch event when event is set (even when nothing changed).
func (s *Sidecar) setStateLocked(state string, event bool) {
	if !final(s.state) {
		s.state = state
	}
	if event {
		s.broadcastLocked()
	}
	s.notifyLocked()
}

func (s *Sidecar) broadcastLocked() {
	line, _ := json.Marshal(map[string]any{"result": s.gameServerLocked()})
	line = append(line, '\n')
	for w := range s.watchers {
		select {
		case w <- line:
		default: // a watcher that does not read loses events, as over a slow stream
		}
	}
}

func (s *Sidecar) gameServerLocked() map[string]any {
	str := func(n int64) string { return strconv.FormatInt(n, 10) }
	ports := []map[string]any{}
	for name, p := range s.cfg.Ports {
		ports = append(ports, map[string]any{"name": name, "port": p})
	}
	counters := map[string]any{}
	for name, c := range s.counters {
		counters[name] = map[string]any{"count": str(c.count), "capacity": str(c.capacity)}
	}
	return map[string]any{
		"object_meta": map[string]any{
			"name": s.cfg.Name, "namespace": "default", "uid": "0e9f5f7e", "resource_version": "1",
			"generation": "1", "creation_timestamp": "1764480000", "deletion_timestamp": "0",
			"annotations": maps.Clone(s.annotations), "labels": maps.Clone(s.labels),
		},
		"spec": map[string]any{
			"health": map[string]any{
				"disabled": s.cfg.HealthDisabled, "period_seconds": int32(s.cfg.Period / time.Second),
				"failure_threshold": int32(s.cfg.FailureThreshold), "initial_delay_seconds": int32(s.cfg.InitialDelay / time.Second),
			},
		},
		"status": map[string]any{
			"state": s.state, "address": s.cfg.Address,
			"addresses": []map[string]any{{"type": "InternalIP", "address": s.cfg.Address}},
			"ports":     ports, "players": nil, "counters": counters, "lists": map[string]any{},
		},
	}
}

// enforceHealth is the cluster's health check: after InitialDelay, each
// Period without a ping is a failure; FailureThreshold in a row make the
// GameServer Unhealthy.
func (s *Sidecar) enforceHealth() {
	defer s.wg.Done()
	select {
	case <-time.After(s.cfg.InitialDelay):
	case <-s.stop:
		return
	}
	t := time.NewTicker(s.cfg.Period)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.mu.Lock()
			if now.Sub(s.lastPing) > s.cfg.Period {
				failures++
			} else {
				failures = 0
			}
			if failures >= s.cfg.FailureThreshold && !final(s.state) {
				s.setStateLocked("Unhealthy", true)
			}
			s.mu.Unlock()
		}
	}
}

// gatewayError writes the grpc-gateway's error body.
func gatewayError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d, "message":%q, "details":[]}`, code, msg)
}

// writeJSON writes a unary answer with whitespace, as protojson does.
func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.MarshalIndent(v, "", " ")
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

var counterPath = regexp.MustCompile(`^/v1beta1/counters/([^/]+)$`)

// qualifiedName is the Kubernetes label key rule the cluster's sidecar
// checks (the optional DNS prefix left out: keys here have none).
var qualifiedName = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
var labelValue = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)

func (s *Sidecar) serve(w http.ResponseWriter, r *http.Request) {
	if s.cfg.OnCall != nil {
		s.cfg.OnCall(r.Method + " " + r.URL.Path)
	}
	call := r.Method + " " + r.URL.Path
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	down := s.down
	if down {
		s.refused = append(s.refused, Call{Method: r.Method, Path: r.URL.Path, Body: string(body), State: s.state, At: time.Now()})
		s.notifyLocked() // WaitFor sees attempts on a sidecar that is down
	}
	crash := !down && call == s.downAfter && call != "GET /watch/gameserver"
	if crash {
		s.downAfter = ""
	}
	s.mu.Unlock()
	if down {
		drop(w)
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/watch/gameserver" {
		s.watch(w, r)
		return
	}
	var out http.ResponseWriter = w
	if crash {
		out = httptest.NewRecorder() // the answer is never sent
	}
	rec := &recorder{ResponseWriter: out, status: http.StatusOK}
	s.route(rec, r, body)
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Body: string(body), Status: rec.status, State: s.state, At: time.Now()})
	if crash {
		s.down = true
	}
	s.notifyLocked()
	s.mu.Unlock()
	if crash {
		drop(w)
		s.srv.CloseClientConnections()
	}
}

// drop closes the request's connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	w.WriteHeader(http.StatusServiceUnavailable)
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// decode parses a JSON body into v; an empty body is {} (except where the
// caller rejects it). It writes the 400 and returns false on bad JSON.
func decode(w http.ResponseWriter, body []byte, v any) bool {
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		gatewayError(w, http.StatusBadRequest, 3, err.Error())
		return false
	}
	return true
}

// num is an int64 field the gateway reads from a number or a string.
type num struct {
	set bool
	v   int64
}

func (n *num) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("invalid value %s for int64", b)
	}
	n.set, n.v = true, v
	return nil
}

func (s *Sidecar) route(w http.ResponseWriter, r *http.Request, body []byte) {
	path := r.URL.Path
	allow := func(method string) bool {
		if r.Method != method {
			gatewayError(w, http.StatusNotImplemented, 12, "Method Not Allowed")
			return false
		}
		return true
	}
	stateCall := func(next string) {
		var v map[string]any
		if !decode(w, body, &v) {
			return
		}
		s.mu.Lock()
		s.setStateLocked(next, true)
		s.mu.Unlock()
		writeJSON(w, map[string]any{})
	}
	switch {
	case path == "/gameserver":
		if allow(http.MethodGet) {
			s.mu.Lock()
			gs := s.gameServerLocked()
			s.mu.Unlock()
			writeJSON(w, gs)
		}
	case path == "/ready":
		if !allow(http.MethodPost) {
			return
		}
		stateCall("RequestReady")
		s.mu.Lock()
		s.reserveGen++
		s.mu.Unlock()
		time.AfterFunc(s.cfg.ReadyDelay, func() { // the controller
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.state == "RequestReady" {
				s.setStateLocked("Ready", true)
			}
		})
	case path == "/allocate":
		if allow(http.MethodPost) {
			stateCall("Allocated")
			s.mu.Lock()
			s.reserveGen++
			s.mu.Unlock()
		}
	case path == "/shutdown":
		if allow(http.MethodPost) {
			stateCall("Shutdown")
		}
	case path == "/reserve":
		if !allow(http.MethodPost) {
			return
		}
		var req struct {
			Seconds num `json:"seconds"`
		}
		if !decode(w, body, &req) {
			return
		}
		s.mu.Lock()
		s.setStateLocked("Reserved", true)
		s.reserveGen++
		gen := s.reserveGen
		s.mu.Unlock()
		if req.Seconds.v > 0 {
			time.AfterFunc(time.Duration(req.Seconds.v)*time.Second, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				if s.reserveGen == gen && s.state == "Reserved" {
					s.setStateLocked("Ready", true)
				}
			})
		}
		writeJSON(w, map[string]any{})
	case path == "/health":
		if !allow(http.MethodPost) {
			return
		}
		if len(bytes.TrimSpace(body)) == 0 {
			w.WriteHeader(http.StatusBadRequest) // empty body, no JSON
			return
		}
		var v any
		if !decode(w, body, &v) {
			return
		}
		s.mu.Lock()
		s.pings++
		s.lastPing = time.Now()
		s.mu.Unlock()
		writeJSON(w, map[string]any{})
	case path == "/metadata/label" || path == "/metadata/annotation":
		if !allow(http.MethodPut) {
			return
		}
		var kv struct{ Key, Value string }
		if !decode(w, body, &kv) {
			return
		}
		if !qualifiedName.MatchString(kv.Key) || (path == "/metadata/label" && !labelValue.MatchString(kv.Value)) {
			gatewayError(w, http.StatusBadRequest, 3, fmt.Sprintf("invalid label or annotation %q=%q", kv.Key, kv.Value))
			return
		}
		s.mu.Lock()
		if path == "/metadata/label" {
			s.labels["agones.dev/sdk-"+kv.Key] = kv.Value
		} else {
			s.annotations["agones.dev/sdk-"+kv.Key] = kv.Value
		}
		s.broadcastLocked()
		s.mu.Unlock()
		writeJSON(w, map[string]any{})
	case counterPath.MatchString(path):
		name := counterPath.FindStringSubmatch(path)[1]
		s.counter(w, r, name, body)
	default:
		gatewayError(w, http.StatusNotFound, 5, "Not Found")
	}
}

func (s *Sidecar) counter(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	if r.Method != http.MethodGet && r.Method != http.MethodPatch {
		gatewayError(w, http.StatusNotImplemented, 12, "Method Not Allowed")
		return
	}
	var req struct {
		Count     num `json:"count"`
		Capacity  num `json:"capacity"`
		CountDiff num `json:"countDiff"`
	}
	if r.Method == http.MethodPatch && !decode(w, body, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters[name]
	if c == nil {
		gatewayError(w, http.StatusInternalServerError, 2, fmt.Sprintf("not found. %s Counter not found", name))
		return
	}
	next := *c
	if req.Capacity.set {
		next.capacity = req.Capacity.v
	}
	if req.Count.set {
		next.count = req.Count.v
	}
	if req.CountDiff.set {
		next.count += req.CountDiff.v
	}
	if next.count < 0 || next.count > next.capacity {
		gatewayError(w, http.StatusInternalServerError, 2,
			fmt.Sprintf("out of range. Count must be within range [0,Capacity]. Found Count: %d, Capacity: %d", next.count, next.capacity))
		return
	}
	*c = next
	writeJSON(w, map[string]any{"name": name, "count": strconv.FormatInt(c.count, 10), "capacity": strconv.FormatInt(c.capacity, 10)})
}

// watch streams one compact line per event, the current state first.
func (s *Sidecar) watch(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		gatewayError(w, http.StatusInternalServerError, 13, "streaming unsupported")
		return
	}
	ch := make(chan []byte, 64)
	s.mu.Lock()
	first, _ := json.Marshal(map[string]any{"result": s.gameServerLocked()})
	s.watchers[ch] = struct{}{}
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Status: http.StatusOK, State: s.state, At: time.Now()})
	s.notifyLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.watchers, ch)
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Grpc-Metadata-Content-Type", "application/grpc")
	w.WriteHeader(http.StatusOK)
	w.Write(append(first, '\n'))
	fl.Flush()
	for {
		select {
		case line := <-ch:
			if _, err := w.Write(line); err != nil {
				return
			}
			fl.Flush()
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		}
	}
}
