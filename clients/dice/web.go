// Package dice holds the built Liar's Dice browser client (dist/, made
// from src/ by `make dice`), embedded so that a gameserver serves it on a
// machine without Node. The game itself is gameserver/liarsdice.
package dice

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

// Handler serves the client from the root of its path: mount it with
// http.StripPrefix (gameserver.Config.Pages does). The page reads the
// service addresses from /config.json, which the gameserver serves.
func Handler() http.Handler {
	fs := http.FileServerFS(Files())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		fs.ServeHTTP(w, r)
	})
}
