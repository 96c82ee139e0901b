package httpapi

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
)

// How long clients and shared caches may keep each kind of answer. Live
// boards change with every match, so they are kept briefly; recorded
// matches and ended seasons never change.
const (
	cacheLive     = "public, max-age=5"
	cacheBoards   = "public, max-age=30"
	cacheForever  = "public, max-age=86400"
	cacheSpecDocs = "public, max-age=3600"
)

// writeCached writes v as JSON with a strong ETag (a hash of the body) and
// the given Cache-Control, or 304 Not Modified when the client's
// If-None-Match names the same ETag.
func writeCached(w http.ResponseWriter, r *http.Request, cacheControl string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "internal error encoding the answer")
		return
	}
	body = append(body, '\n')
	serveCached(w, r, cacheControl, "application/json", body)
}

func serveCached(w http.ResponseWriter, r *http.Request, cacheControl, contentType string, body []byte) {
	h := fnv.New64a()
	h.Write(body)
	etag := fmt.Sprintf(`"%016x"`, h.Sum64())
	hdr := w.Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", cacheControl)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// etagMatches implements the weak comparison of If-None-Match (RFC 9110
// 13.1.2): a list of entity tags, or "*".
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
