package scanner_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/scanner"
)

// Connection-string detectors rebuild their value (Postgres adds the
// default port to a port-less URI, MongoDB re-encodes the query, the URI
// detector drops the path): each is still found, on its own line, with the
// password as written, and nothing is dropped as unlocated.
func TestScanLocatesNormalisedConnectionStrings(t *testing.T) {
	g := secrettest.Fresh(t)
	pg, pgEnc, mongo, ftp := g.Alnum(20), g.Alnum(12), g.Alnum(18), g.Alnum(16)
	r := gittest.New(t)
	r.Commit("", "services", map[string]string{
		"docker-compose.yml": "services:\n  web:\n    image: acme/web\n    environment:\n" +
			"      DATABASE_URL: postgres://app:" + pg + "@db/app\n",
		"config/worker.env": "# worker\nQUEUE_DB=postgresql://worker:" + pgEnc + "%40x@db.acme.internal/jobs?sslmode=require\n",
		"config/mongo.yaml": "mongo:\n  uri: mongodb://app:" + mongo + "@mongo.acme.internal:27017/app?tls=true&authSource=admin\n",
		"scripts/fetch.sh":  "#!/bin/sh\n\ncurl -O ftp://mirror:" + ftp + "@ftp.acme.internal/pub/data.tar.gz\n",
	})
	res := scan(t, r.Dir, scanner.All())
	head := r.Head()
	want := []got{
		{"FTP", head, "scripts/fetch.sh", 3},
		{"MongoDB", head, "config/mongo.yaml", 2},
		{"Postgres", head, "config/worker.env", 2},
		{"Postgres", head, "docker-compose.yml", 5},
	}
	gotAll := summarize(res)
	sortGot(gotAll)
	if diff := cmp.Diff(want, gotAll); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	wantPasswords(t, res, pg, pgEnc+"@x", mongo, ftp)
	wantDropped(t, res, nil, []string{"unlocated"})
}

// TruffleHog's MongoDB detector takes every password that starts with x
// or X, or ends in *, for a placeholder (its filter lacks a group). Such
// passwords are real ones and are found, each at its line, with the
// password the detector decoded; passwords that are only x's or stars are
// placeholders and are not.
func TestScanMongoDBPasswordsUpstreamTookForPlaceholders(t *testing.T) {
	g := secrettest.Fresh(t)
	lower, upper, star, both := "x"+g.Alnum(17), "X"+g.Alnum(15), g.Alnum(14)+"*", "x"+g.Alnum(6)+"%40"+g.Alnum(6)+"*"
	r := gittest.New(t)
	r.Commit("", "mongo", map[string]string{
		"config/a.yaml": "uri: mongodb://app:" + lower + "@mongo.acme.internal:27017/app?tls=true\n",
		"config/b.env":  "# b\nMONGO_URL=mongodb+srv://svc:" + upper + "@cluster0.acme.internal/jobs\n",
		"config/c.yaml": "a: 1\nb: 2\nuri: mongodb://ops:" + star + "@mongo.acme.internal/admin\n",
		"config/d.yaml": "uri: mongodb://etl:" + both + "@mongo.acme.internal:27018/etl\n",
		"config/e.yaml": "one: mongodb://app:xxxxxxxx@mongo.acme.internal/app\ntwo: mongodb://app:XXXXXX@mongo.acme.internal/app\n" +
			"three: mongodb://app:********@mongo.acme.internal/app\n",
	})
	res := scan(t, r.Dir, scanner.All())
	head := r.Head()
	want := []got{
		{"MongoDB", head, "config/a.yaml", 1},
		{"MongoDB", head, "config/b.env", 2},
		{"MongoDB", head, "config/c.yaml", 3},
		{"MongoDB", head, "config/d.yaml", 1},
	}
	gotAll := summarize(res)
	sortGot(gotAll)
	if diff := cmp.Diff(want, gotAll); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	wantPasswords(t, res, lower, upper, star, strings.Replace(both, "%40", "@", 1))
}

// A URI or JDBC URL without a password, or whose password is a template
// variable or a stock placeholder, is no secret: nothing is reported, and
// each is counted under its reason. A real password beside them is found.
func TestScanConnectionStringPlaceholders(t *testing.T) {
	g := secrettest.Fresh(t)
	real := g.Alnum(20)
	placeholders := []string{"$password", "${DB_PASSWORD}", "$(cat /run/pw)", "%(pw)s", "<password>", "YOUR_PASSWORD", "changeme", "***", "xxxxxx", "password"}
	var b strings.Builder
	for i, p := range placeholders {
		b.WriteString("DB" + string(rune('A'+i)) + "=postgres://app:" + p + "@db.acme.internal/app\n")
		b.WriteString("URL" + string(rune('A'+i)) + "=https://deploy:" + p + "@git.acme.internal/acme/app.git\n")
	}
	b.WriteString("REAL=postgres://app:" + real + "@db.acme.internal/app\n")
	r := gittest.New(t)
	r.Commit("", "config", map[string]string{
		".env": b.String(),
		"src/main/resources/application.properties": "spring.datasource.url=${POSTGRES_URL:jdbc:postgresql://localhost/app}\n" +
			"spring.flyway.url=jdbc:postgresql://db.acme.internal:5432/app?user=flyway&password=${FLYWAY_PASSWORD}\n",
		"src/main/resources/application.yml": "spring:\n  datasource:\n    url: ${DATASOURCE_URL:jdbc:mysql://db.acme.internal/app?useSSL=false}\n",
	})
	res := scan(t, r.Dir, scanner.All())
	want := []got{{"Postgres", r.Head(), ".env", len(placeholders)*2 + 1}}
	if diff := cmp.Diff(want, summarize(res)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	wantDropped(t, res, []string{"no_credential", "placeholder_password"}, nil)
}

// Keyword-and-entropy detectors fire on base64 that is no credential: Box
// ("box" anywhere, then 32 letters and digits) on a lockfile's integrity
// hash and on an SVG's embedded image, CircleCI on a yarn resolved URL's
// SHA-1 of a package named circle-…, Box on a PuTTY key's body. Each is
// dropped under its reason; the PuTTY key is found whole, as a private key.
func TestScanBase64FalsePositives(t *testing.T) {
	g := secrettest.Fresh(t)
	// A base64 run holding "box" followed by a 32-character word: what Box's
	// pattern takes for a token.
	blob := func() string { return g.Alnum(10) + "+bOx/" + g.Alnum(32) + "+" + g.Alnum(30) }
	var body []string
	for i := 0; i < 6; i++ {
		body = append(body, g.Alnum(64))
	}
	body[3] = (blob() + g.Alnum(64))[:64]
	pub := g.Alnum(64) + "\n" + g.Alnum(40)
	ppk := "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@acme\nPublic-Lines: 2\n" + pub +
		"\nPrivate-Lines: 6\n" + strings.Join(body, "\n") + "\nPrivate-MAC: " + g.Hex(64) + "\n"
	r := gittest.New(t)
	r.Commit("", "assets", map[string]string{
		"package-lock.json": "{\n  \"packages\": {\n    \"node_modules/left-pad\": {\n      \"version\": \"1.3.0\",\n" +
			"      \"integrity\": \"sha512-" + blob() + "==\"\n    }\n  }\n}\n",
		"yarn.lock": "circle-to-polygon@^2.2.0:\n  version \"2.2.0\"\n" +
			"  resolved \"https://registry.yarnpkg.com/circle-to-polygon/-/circle-to-polygon-2.2.0.tgz#" + g.Hex(40) + "\"\n" +
			"  integrity sha512-" + blob() + "==\n",
		"public/logo.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\">\n" +
			"  <image width=\"64\" height=\"64\" href=\"data:image/png;base64," + blob() + "\"/>\n</svg>\n",
		"keys/deploy.ppk": ppk,
	})
	res := scan(t, r.Dir, scanner.All())
	want := []got{{"PrivateKey", r.Head(), "keys/deploy.ppk", 1}}
	if diff := cmp.Diff(want, summarize(res)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(res.Findings) == 1 && res.Findings[0].Secret.Reveal() != strings.TrimSuffix(ppk, "\n") {
		t.Errorf("the PuTTY finding is not the whole key")
	}
	wantDropped(t, res, []string{"content_hash", "svg_data", "putty_key_body"}, nil)
}

func sortGot(gs []got) {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].Detector != gs[j].Detector {
			return gs[i].Detector < gs[j].Detector
		}
		return gs[i].Path < gs[j].Path
	})
}

// wantPasswords checks that each connection finding's password is one of
// those planted.
func wantPasswords(t *testing.T, res *scanner.Result, planted ...string) {
	t.Helper()
	for _, f := range res.Findings {
		if _, pw, ok := f.Credential(); !ok || !slices.Contains(planted, pw.Reveal()) {
			t.Errorf("%s: the finding's password is not the one planted", f.Detector)
		}
	}
}

// wantDropped checks the scan counted results dropped for each reason of
// some, and none for each of none.
func wantDropped(t *testing.T, res *scanner.Result, some, none []string) {
	t.Helper()
	for _, why := range some {
		if res.Stats.Dropped[scanner.DropReason(why)] == 0 {
			t.Errorf("nothing counted as %s: %v", why, res.Stats.Dropped)
		}
	}
	for _, why := range none {
		if n := res.Stats.Dropped[scanner.DropReason(why)]; n != 0 {
			t.Errorf("%d results counted as %s", n, why)
		}
	}
}
