package httpapi

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// wildcard matches a path wildcard of a route pattern: {id}, {player}.
var wildcard = regexp.MustCompile(`\{(\w+)\}`)

// checkPathIDs refuses a request whose path wildcards (every one of the
// pattern's but {season}, which its handler parses as a number) are not
// ids a store can hold: over leaderboard.MaxIDLen bytes, not UTF-8, or
// holding NUL (leaderboard.ValidID). Such an id names nothing, so a GET
// gets 404, as an unknown id does; any other method 400. Without it,
// PostgreSQL would refuse the query ("invalid byte sequence for encoding
// UTF8") and the client would get a 500.
func checkPathIDs(pattern string, h http.HandlerFunc) http.HandlerFunc {
	var names []string
	for _, m := range wildcard.FindAllStringSubmatch(pattern, -1) {
		if m[1] != "season" {
			names = append(names, m[1])
		}
	}
	if len(names) == 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		for _, name := range names {
			if err := leaderboard.ValidID(fmt.Sprintf("{%s}", name), r.PathValue(name)); err != nil {
				status := http.StatusBadRequest
				if r.Method == http.MethodGet || r.Method == http.MethodHead {
					status = http.StatusNotFound
				}
				writeProblem(w, status, err.Error())
				return
			}
		}
		h(w, r)
	}
}
