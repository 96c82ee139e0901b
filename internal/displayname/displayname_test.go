package displayname_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/skirmishgg/skirmish/internal/displayname"
)

func TestName(t *testing.T) {
	tests := []struct {
		in, want string // want "" : refused
		rule     string // a piece of the refusal's message
	}{
		{"ada", "ada", ""},
		{"Ada  Lovelace ", "Ada Lovelace", ""},
		{"ｆｕｌｌ", "full", ""},
		{"Zoë", "Zoë", ""},
		{"Zoe\u0308", "Zoë", ""}, // NFKC composes
		{"日本語の名前", "日本語の名前", ""},
		{"مرحبا", "مرحبا", ""},
		{"Tiếng Việt", "Tiếng Việt", ""},
		{"♠ace♠", "♠ace♠", ""},
		{strings.Repeat("a", 24), strings.Repeat("a", 24), ""},
		{"", "", "is empty"},
		{"   ", "", "is empty"},
		{strings.Repeat("a", 25), "", "longer than 24"},
		{strings.Repeat("é", 25), "", "longer than 24"},
		{strings.Repeat("a", 5000), "", "longer than 24"},
		{"x\x1b[31m", "", "U+001B at character 2, a control character"},
		{"x\u009b31mred\u0085", "", "U+009B at character 2, a control character"},
		{"tab\there", "", "control character"},
		{"a\u2028b", "", "line or paragraph separator"},
		{"evil\u202Egnp.exe", "", "U+202E at character 5, a bidirectional control"},
		{"a\u2066b", "", "bidirectional control"},
		{"a\u200Fb", "", "bidirectional control"},
		{"a\u061Cb", "", "bidirectional control"},
		{"a\u200Bb", "", "invisible"},
		{"a\u200Db", "", "invisible"},
		{"a\u00ADb", "", "invisible"},
		{"a\uFEFFb", "", "invisible"},
		{"\u3164", "", "invisible"},       // Hangul filler, a "blank" name
		{"a\u115Fb", "", "invisible"},     // Hangul choseong filler
		{"❤\uFE0F", "", "invisible"},      // variation selector
		{"a\U000E0041b", "", "invisible"}, // tag character
		{"Z\u0301\u0302\u0303\u0304algo", "", "combining marks in a row"},
		{"a\uE000b", "", "PRECIS"}, // private use
		{"a\U0010FFFFb", "", "PRECIS"},
		{"bad\xffutf8", "", "not valid UTF-8"},
	}
	for _, tt := range tests {
		got, err := displayname.Name(tt.in)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("Name(%+q) = %+q, %v; want %+q", tt.in, got, err, tt.want)
			}
			continue
		}
		var e *displayname.Error
		if err == nil || !errors.As(err, &e) || !errors.Is(err, displayname.ErrInvalid) || !strings.Contains(err.Error(), tt.rule) {
			t.Errorf("Name(%+q) = %+q, %v; want an error containing %q", tt.in, got, err, tt.rule)
			continue
		}
		if !safe(err.Error()) {
			t.Errorf("Name(%+q) error %+q is not safe to show", tt.in, err.Error())
		}
	}
}

func TestTitle(t *testing.T) {
	if got, err := displayname.Title("Total eliminations"); err != nil || got != "Total eliminations" {
		t.Errorf("Title(ok) = %q, %v", got, err)
	}
	if _, err := displayname.Title("Top\u202E"); err == nil || !strings.HasPrefix(err.Error(), "title ") {
		t.Errorf("Title(bidi) = %v, want a title error", err)
	}
	if _, err := displayname.Title(strings.Repeat("x", displayname.MaxTitleLen+1)); err == nil {
		t.Error("Title(too long) = nil error")
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ada", "ada"},
		{"x\u009b31mred\u0085", "x31mred"},
		{"x\x1b[31mred", "x[31mred"},
		{"evil\u202Egnp", "evilgnp"},
		{"Z\u0301\u0302\u0303\u0304\u0305algo", "\u0179\u0302\u0303algo"},
		{strings.Repeat("ab", 30), strings.Repeat("ab", 12)},
		{"\u3164\u200B", "player"},
		{"", "player"},
		{"\xff\xfe", "player"},
		{"a\uE000b", "ab"},
	}
	for _, tt := range tests {
		if got := displayname.Sanitize(tt.in, "player"); got != tt.want {
			t.Errorf("Sanitize(%+q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
}

// safe: the text is printable, has no refused character, and is short.
func safe(s string) bool {
	if !utf8.ValidString(s) || len(s) > 400 {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// FuzzName: whatever the input, Name refuses it with a safe message or
// returns a name it accepts unchanged (the rule is idempotent), of 1 to
// MaxLen characters, with nothing the rule refuses; Sanitize always
// returns such a name.
func FuzzName(f *testing.F) {
	for _, s := range []string{"ada", "x\u009b31mred\u0085", "x\x1b[31m", "Ada  Lovelace ", "ｆｕｌｌ", "evil\u202Egnp",
		"\u3164", "Z\u0301\u0302\u0303\u0304algo", "e\u0301", "\xff", "日本語", "ﷺ", "㍻", "ǅ", "\u0345\u0345\u0345\u0345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := displayname.Name(in)
		if err != nil {
			if !errors.Is(err, displayname.ErrInvalid) || !safe(err.Error()) {
				t.Fatalf("Name(%+q) error %+q: not ErrInvalid or not safe to show", in, err)
			}
		} else {
			checkName(t, "Name", in, out)
		}
		checkName(t, "Sanitize", in, displayname.Sanitize(in, "player"))
	})
}

func checkName(t *testing.T, fn, in, out string) {
	t.Helper()
	again, err := displayname.Name(out)
	if err != nil || again != out {
		t.Fatalf("%s(%+q) = %+q, but Name of it = %+q, %v", fn, in, out, again, err)
	}
	if n := utf8.RuneCountInString(out); n < 1 || n > displayname.MaxLen {
		t.Fatalf("%s(%+q) = %+q: %d characters", fn, in, out, n)
	}
	for _, r := range out {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("%s(%+q) = %+q holds %U", fn, in, out, r)
		}
	}
}
