package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version is the release this binary was built from. Release builds set
// it with -ldflags "-X main.version=v1.2.3"; otherwise it comes from the
// module's build information (a tagged `go install`, or the VCS revision).
var version = ""

// buildVersion returns version, or what the Go toolchain recorded about
// the build: the module version, else the VCS revision and whether the
// tree had local changes.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "devel-" + rev + modified
}

func runVersion(w io.Writer) {
	goVersion := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(w, "skirmish %s (%s)\n", buildVersion(), goVersion)
}
