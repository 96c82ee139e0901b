// Package displayname is the one rule for text that players choose and
// other players see: player names (guest sign-in, the names in match
// outcomes) and board titles. It is the PRECIS Nickname profile (RFC 8266,
// golang.org/x/text/secure/precis: Unicode letters, digits, symbols,
// punctuation and spaces, NFKC-normalized, with leading and trailing
// spaces removed and inner runs of spaces made one), plus refusals the
// profile leaves to the application:
//
//   - control characters (C0 and C1, such as U+001B and U+009B, which start
//     terminal escape sequences), line and paragraph separators;
//   - bidirectional controls (U+202E and the like, which reorder the text
//     around a name);
//   - invisible characters: every default-ignorable code point (zero-width
//     spaces and joiners, variation selectors, Hangul fillers, tags);
//   - more than MaxMarks combining marks in a row ("Zalgo" text that
//     spills over the lines around it);
//   - more than the length limit, counted in characters (runes) after
//     normalization.
//
// Errors name the rule a text breaks and the offending character as U+XXXX,
// never the raw text.
package displayname

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// Limits of the rule.
const (
	// MaxLen is the most characters a player name has.
	MaxLen = 24
	// MaxTitleLen is the most characters a board title has.
	MaxTitleLen = 100
	// MaxMarks is the most combining marks allowed in a row, enough for
	// any language's stacked diacritics.
	MaxMarks = 3
	// maxInputBytes bounds the work Sanitize does on a text.
	maxInputBytes = 4 * 4 * MaxTitleLen
	// slack is how many input characters (before normalization removes
	// spaces and composes marks) or normalized characters (before spaces
	// collapse) a text of the limit's length may have: more is too long
	// for certain, and is refused before the costlier PRECIS passes.
	slack = 4
)

// ErrInvalid is wrapped by every error of this package.
var ErrInvalid = errors.New("invalid display name")

// Error says which rule a text breaks; its message is safe to show.
type Error struct {
	What, Rule string
}

func (e *Error) Error() string { return e.What + " " + e.Rule }

func (e *Error) Unwrap() error { return ErrInvalid }

// Name returns the player name as it is to be stored and shown (the
// PRECIS-enforced form: "Ada  Lovelace " becomes "Ada Lovelace", fullwidth
// letters become ASCII), or an *Error naming the rule it breaks.
func Name(name string) (string, error) { return enforce("name", name, MaxLen) }

// Title is Name for a board title of up to MaxTitleLen characters.
func Title(title string) (string, error) { return enforce("title", title, MaxTitleLen) }

func enforce(what, s string, maxLen int) (string, error) {
	tooLong := &Error{what, fmt.Sprintf("is longer than %d characters", maxLen)}
	if len(s) > 4*slack*maxLen {
		return "", tooLong
	}
	if !utf8.ValidString(s) {
		return "", &Error{what, "is not valid UTF-8"}
	}
	if utf8.RuneCountInString(s) > slack*maxLen {
		return "", tooLong
	}
	if err := check(what, s); err != nil {
		return "", err
	}
	// Compatibility decomposition can expand one character to eighteen
	// (U+FDFA); bound the text before PRECIS works on it.
	if utf8.RuneCountInString(norm.NFKC.String(s)) > slack*maxLen {
		return "", tooLong
	}
	out, err := precis.Nickname.String(s)
	if err != nil {
		if strings.TrimSpace(s) == "" {
			return "", &Error{what, "is empty"}
		}
		return "", &Error{what, "holds a character that the PRECIS nickname profile (RFC 8266) does not allow " +
			"(unassigned, private use, or not a letter, digit, symbol, punctuation or space)"}
	}
	if n := utf8.RuneCountInString(out); n > maxLen {
		return "", &Error{what, fmt.Sprintf("is longer than %d characters", maxLen)}
	}
	// Normalization can turn characters into a refused one or join
	// marks; check the result as well.
	if out != s {
		if err := check(what, out); err != nil {
			return "", err
		}
	}
	return out, nil
}

// check applies the refusals beyond PRECIS to every character of s.
func check(what, s string) error {
	marks, i := 0, 0
	for _, r := range s {
		i++
		if why := refused(r); why != "" {
			return &Error{what, fmt.Sprintf("contains %U at character %d, %s, which names may not hold", r, i, why)}
		}
		if unicode.In(r, unicode.Mn, unicode.Me) {
			if marks++; marks > MaxMarks {
				return &Error{what, fmt.Sprintf("has more than %d combining marks in a row (at character %d)", MaxMarks, i)}
			}
		} else {
			marks = 0
		}
	}
	return nil
}

// refused says why the rule refuses r beyond PRECIS's own classes, or "".
func refused(r rune) string {
	switch {
	case unicode.Is(unicode.Cc, r):
		return "a control character"
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return "a line or paragraph separator"
	case unicode.Is(unicode.Bidi_Control, r):
		return "a bidirectional control"
	case defaultIgnorable(r):
		return "an invisible (default-ignorable) character"
	}
	return ""
}

// defaultIgnorable approximates Unicode's Default_Ignorable_Code_Point
// (DerivedCoreProperties.txt) from the tables Go ships: format characters,
// variation selectors and Other_Default_Ignorable_Code_Point.
func defaultIgnorable(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// Sanitize returns a player name that Name accepts, made from name: the
// name itself when Name accepts it, else the name without the characters
// the rule refuses (and without the extra combining marks), cut to MaxLen
// characters; fallback when nothing acceptable is left. It is for names
// that arrive from elsewhere (a match outcome on the queue), where refusing
// would fail the outcome forever; fallback must itself be acceptable.
func Sanitize(name, fallback string) string {
	if out, err := Name(name); err == nil {
		return out
	}
	if len(name) > maxInputBytes {
		name = name[:maxInputBytes]
	}
	var b strings.Builder
	marks, kept := 0, 0
	for _, r := range name {
		if r == utf8.RuneError || refused(r) != "" {
			continue
		}
		if unicode.In(r, unicode.Mn, unicode.Me) {
			if marks++; marks > MaxMarks {
				continue
			}
		} else {
			marks = 0
		}
		if unicode.Is(unicode.Zs, r) {
			r = ' '
		} else if _, err := precis.Nickname.String(string(r)); err != nil && !unicode.In(r, unicode.Mn, unicode.Me) {
			continue
		}
		b.WriteRune(r)
		if kept++; kept == MaxLen {
			break
		}
	}
	out, err := Name(b.String())
	if err != nil {
		return fallback
	}
	return out
}
