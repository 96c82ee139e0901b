package main

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
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

// envName is the environment variable that sets a flag: --data-dir is
// SKIRMISH_DATA_DIR.
func envName(flagName string) string {
	return "SKIRMISH_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// flagUsage prints a command's flags, each with its environment variable
// and default, in the layout of the flag package.
func flagUsage(fs *flag.FlagSet) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s [flags]\n\nFlags (each also set by the environment variable shown):\n", fs.Name())
		fs.VisitAll(func(f *flag.Flag) {
			typ, text := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  -%s", f.Name)
			if typ != "" {
				fmt.Fprintf(w, " %s", typ)
			}
			fmt.Fprintf(w, "    $%s\n    \t%s", envName(f.Name), strings.ReplaceAll(text, "\n", "\n    \t"))
			switch {
			case f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0":
			case typ == "string":
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			default:
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(w)
		})
	}
}

// isHelp reports whether arg asks for the usage.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}
