package matchmaker

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ParseOrigins reads a comma-separated list of browser origins, as given
// to the --cors-origins flag: "*", or origins such as
// "http://127.0.0.1:7800" and "https://*.example.com" (one wildcard). Spaces
// around the commas are ignored.
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(list, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no origin given")
	}
	if err := validateOrigins(out); err != nil {
		return nil, err
	}
	return out, nil
}

// validateOrigins checks that every origin is "*" or scheme://host[:port]
// with an http or https scheme and nothing after the host.
func validateOrigins(origins []string) error {
	var errs []error
	for _, o := range origins {
		if o == "*" {
			continue
		}
		if strings.Count(o, "*") > 1 {
			errs = append(errs, fmt.Errorf("%q: at most one * in an origin", o))
			continue
		}
		u, err := url.Parse(strings.Replace(o, "*", "wildcard", 1))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%q: %w", o, err))
		case u.Scheme != "http" && u.Scheme != "https":
			errs = append(errs, fmt.Errorf("%q: an origin starts with http:// or https://", o))
		case u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			errs = append(errs, fmt.Errorf("%q: an origin is scheme://host[:port], with no path", o))
		}
	}
	return errors.Join(errs...)
}
