package awssm

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/remediator/rewrite"
)

// TestVersionID: a version's request token depends on the fingerprint, the
// name and the number only (a retry sends the same one), differs for every
// other input, and has the form AWS requires of ClientRequestToken (32 to 64
// characters) and its SDKs generate (a UUID).
func TestVersionID(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	a := VersionID("hmac:abc", "pushvault/acme/shop/x", 1)
	if !uuid.MatchString(a) {
		t.Fatalf("VersionID = %q, want a UUID", a)
	}
	if b := VersionID("hmac:abc", "pushvault/acme/shop/x", 1); b != a {
		t.Errorf("VersionID not deterministic: %q then %q", a, b)
	}
	seen := map[string]string{a: "base"}
	for what, id := range map[string]string{
		"other fingerprint": VersionID("hmac:abd", "pushvault/acme/shop/x", 1),
		"other name":        VersionID("hmac:abc", "pushvault/acme/shop/y", 1),
		"other version":     VersionID("hmac:abc", "pushvault/acme/shop/x", 2),
	} {
		if prev, ok := seen[id]; ok {
			t.Errorf("%s gives the same id as %s: %q", what, prev, id)
		}
		seen[id] = what
	}
}

// TestCurrent: the current version is the one AWSCURRENT is on; a version
// someone else wrote (a random id) counts as one past pushvault's last.
func TestCurrent(t *testing.T) {
	fp, name := "hmac:f", "pushvault/acme/shop/x"
	v := func(n int) string { return VersionID(fp, name, n) }
	tests := []struct {
		name   string
		stages map[string][]string
		want   int
	}{
		{"first", map[string][]string{v(1): {"AWSCURRENT", LabelExposed}}, 1},
		{"rotated", map[string][]string{v(1): {"AWSPREVIOUS", LabelExposed}, v(2): {"AWSCURRENT"}}, 2},
		{"exposed destroyed", map[string][]string{v(2): {"AWSCURRENT"}}, 2},
		{"changed by someone else", map[string][]string{v(1): {"AWSPREVIOUS", LabelExposed}, "3f1c7a52-0000-4000-8000-000000000000": {"AWSCURRENT"}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := current(fp, name, tt.stages); got != tt.want {
				t.Errorf("current = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestTagValue: whatever a pusher puts in a path, and the references a
// rotation records, become values AWS takes as tags (at most 256 letters,
// digits, spaces and _.:/=+-@) that read back as they were written; only a
// value too long for a tag is cut.
func TestTagValue(t *testing.T) {
	ok := regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	for _, in := range []string{
		"config/app.yml", "dir with\nnewline/and\ttab.env", "weird#$%^&*()[]{}\"'`~!?,;<>|\\.txt", "a+2B+b",
		"\x00\x01control", "access_key_id=aws/static-creds/r#access_key,secret_access_key=aws/static-creds/r#secret_key",
		strings.Repeat("é", 300), strings.Repeat("a/", 200), strings.Repeat("#", 100),
	} {
		got := tagValue(in)
		if !ok.MatchString(got) || len([]rune(got)) > maxTagValue {
			t.Errorf("tagValue(%q) = %q: not a valid tag value", in, got)
		}
		if back := untag(got); len([]rune(in)) <= 60 && back != in {
			t.Errorf("untag(tagValue(%q)) = %q", in, back)
		}
	}
	if got := tagValue("config/app.yml"); got != "config/app.yml" {
		t.Errorf("tagValue changed a valid value: %q", got)
	}
	if got := untag("a+b+zz"); got != "a+b+zz" {
		t.Errorf("untag of a '+' that escapes nothing = %q", got)
	}
}

// TestName: the template is filled with path-safe segments, so nothing
// from a push climbs out of the prefix.
func TestName(t *testing.T) {
	s := &Store{template: DefaultNameTemplate}
	if got, want := s.name("acme", "shop", "../../prod/db"), "pushvault/acme/shop/_.._prod_db"; got != want {
		t.Errorf("name = %q, want %q", got, want)
	}
}

// TestReference: the reference a fix writes is vals's, parses back to
// itself, and every style but env writes it as it is.
func TestReference(t *testing.T) {
	s := &Store{region: "eu-west-1"}
	ref := s.Ref("pushvault/acme/shop/stripe_api_key", "value")
	want := "ref+awssecrets://pushvault/acme/shop/stripe_api_key?region=eu-west-1#/value"
	for style, got := range map[rewrite.Style]string{
		rewrite.StyleVault: ref.In(rewrite.StyleVault, "STRIPE_API_KEY"),
		rewrite.StyleVals:  ref.In(rewrite.StyleVals, "STRIPE_API_KEY"),
		"inline":           ref.Inline(),
	} {
		w := want
		if style == "inline" {
			w = "${" + want + "}"
		}
		if got != w {
			t.Errorf("%s: %q, want %q", style, got, w)
		}
	}
	got, err := ParseReference(want)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Reference{Name: "pushvault/acme/shop/stripe_api_key", Region: "eu-west-1", Key: "value"}, got); diff != "" {
		t.Errorf("ParseReference (-want +got):\n%s", diff)
	}
	if got.String() != want {
		t.Errorf("String = %q, want %q", got.String(), want)
	}
}

func TestParseReferenceErrors(t *testing.T) {
	for _, in := range []string{
		"ref+awssecrets://name",             // no key
		"ref+awssecrets://name#value",       // not a pointer
		"ref+awssecrets://#/value",          // no name
		"ref+awssecrets://a/../b#/value",    // climbing
		"ref+awssecrets://a?profile=x#/key", // not a parameter pushvault passes on
	} {
		if _, err := ParseReference(in); err == nil {
			t.Errorf("ParseReference(%q): no error", in)
		}
	}
	if _, err := ParseReference("vault:secret/data/x#value"); err != ErrNotReference {
		t.Errorf("a vault reference: %v, want ErrNotReference", err)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{NameTemplate: "pushvault/{owner}", Timeout: -1}.Validate("store.aws")
	for _, want := range []string{"store.aws.timeout", "store.aws.name_template"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to name %s", err, want)
		}
	}
	if err := (Config{}).Validate("store.aws"); err != nil {
		t.Errorf("zero config: %v", err)
	}
}
