// Package web holds the built browser client (dist/, made from src/ by
// `make web`), embedded so that a gameserver serves a playable game on a
// machine without Node.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed dist
var dist embed.FS

// Files are the built client: index.html, app.js, style.css.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time
	}
	return sub
}

// Handler serves the client. The page reads the service addresses from
// /config.json, which the gameserver serves beside it.
func Handler() http.Handler {
	fs := http.FileServerFS(Files())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		fs.ServeHTTP(w, r)
	})
}
