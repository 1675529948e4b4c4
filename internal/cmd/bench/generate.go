package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"

	"github.com/pushvault/pushvault/internal/secrettest"
)

// generatorVersion changes whenever generate's output would: it names the
// cache entry.
const generatorVersion = 2

var words = strings.Fields(`user order payment token session cache client request config key secret
account invoice stripe slack github aws database password api handler queue retry webhook billing
customer product inventory shipment refund report metric tenant region bucket upload download
encrypt decrypt verify signature audit event message notify email template render route server`)

// generate writes a repository at dir (not bare, for TruffleHog's sake; the
// work tree stays empty) whose `git log -p --all` is at
// least minMiB, through one git fast-import stream. Source-like text in Go,
// Python, JavaScript and YAML, identifiers, UUIDs and digests, and one
// planted secret every 40 commits.
func generate(dir string, minMiB int) error {
	if out, err := exec.Command("git", "init", "-q", "-b", "main", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %v: %s", err, out)
	}
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(in, 1<<20)
	r := rand.New(rand.NewPCG(2026, 11))
	secrets := secrettest.New(99)
	target := int64(minMiB) << 20
	var written int64
	files := []string{}
	for n := 1; written < target*11/10; n++ {
		var body strings.Builder
		var changes []string
		for f := 0; f < 2; f++ {
			path := fmt.Sprintf("%s/%s_%d.%s", words[r.IntN(len(words))], words[r.IntN(len(words))], n*2+f, []string{"go", "py", "js", "yaml"}[(n+f)%4])
			content := sourceText(r, 330)
			if f == 0 && n%40 == 0 {
				content = plant(content, secrets, n/40)
			}
			files = append(files, path)
			changes = append(changes, path)
			written += int64(len(content)) * 105 / 100
			fmt.Fprintf(&body, "M 100644 inline %s\ndata %d\n%s\n", path, len(content), content)
		}
		// Rewrite an older file now and then, as real histories do.
		if n > 10 && n%3 == 0 {
			path := files[r.IntN(len(files)-4)]
			content := sourceText(r, 330)
			written += int64(len(content)) * 2
			fmt.Fprintf(&body, "M 100644 inline %s\ndata %d\n%s\n", path, len(content), content)
		}
		msg := fmt.Sprintf("change %s %d", strings.Join(changes, ", "), n)
		when := 1767225600 + n*3600
		fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\nauthor Dev %d <dev%d@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\ndata %d\n%s\n",
			n, n%7, n%7, when, when, len(msg), msg)
		if n > 1 {
			fmt.Fprintf(w, "from :%d\n", n-1)
		}
		w.WriteString(body.String())
		w.WriteString("\n")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	in.Close()
	return cmd.Wait()
}

// sourceText is lines of filler in the shape of Go, Python, JavaScript and
// YAML source, its identifiers drawn from words.
func sourceText(r *rand.Rand, lines int) string { return sourceTextOf(r, lines, words) }

// sourceTextOf is sourceText with identifiers drawn from vocab.
func sourceTextOf(r *rand.Rand, lines int, vocab []string) string {
	word := func() string { return vocab[r.IntN(len(vocab))] }
	title := func() string { w := word(); return strings.ToUpper(w[:1]) + w[1:] }
	var b strings.Builder
	for i := 0; i < lines; i++ {
		switch r.IntN(12) {
		case 0:
			fmt.Fprintf(&b, "func %s%s(ctx context.Context, %s string) (*%s, error) {\n", word(), title(), word(), title())
		case 1:
			fmt.Fprintf(&b, "\tif err := %s.%s%s(ctx); err != nil {\n\t\treturn nil, fmt.Errorf(\"%s %s: %%w\", err)\n\t}\n", word(), title(), title(), word(), word())
		case 2:
			fmt.Fprintf(&b, "def %s_%s(self, %s, %s=None):\n    self.%s = config.get(\"%s_%s\")\n", word(), word(), word(), word(), word(), word(), word())
		case 3:
			fmt.Fprintf(&b, "const %s = await client.%s%s({ id: \"%08x-%04x-4%03x-a%03x-%012x\" });\n", word(), word(), title(), r.Uint32(), r.IntN(65536), r.IntN(4096), r.IntN(4096), r.Uint64()&0xffffffffffff)
		case 4:
			fmt.Fprintf(&b, "  %s_%s: \"%s-%d\"\n", word(), word(), word(), r.IntN(10000))
		case 5:
			fmt.Fprintf(&b, "# %s the %s before the %s is %s\n", word(), word(), word(), word())
		case 6:
			fmt.Fprintf(&b, "  checksum: sha256:%016x%016x%016x%016x\n", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
		case 7:
			fmt.Fprintf(&b, "\t%s%s := %s.New%s(%s, %d*time.Second)\n", word(), title(), word(), title(), word(), r.IntN(120))
		case 8:
			fmt.Fprintf(&b, "    %s_%s = os.environ.get(\"%s_%s\", \"\")\n", word(), word(), strings.ToUpper(word()), strings.ToUpper(word()))
		default:
			fmt.Fprintf(&b, "\t// %s %s %s %s %s %s\n", word(), word(), word(), word(), word(), word())
		}
	}
	return b.String()
}

// plant inserts the k-th secret (kinds in rotation) in the middle of content.
func plant(content string, g *secrettest.Gen, k int) string {
	var line string
	switch k % 9 {
	case 0:
		id, s := g.AWS()
		line = "aws_access_key_id = \"" + id + "\"\naws_secret_access_key = \"" + s + "\"\n"
	case 1:
		line = "GITHUB_TOKEN = \"" + g.GitHub() + "\"\n"
	case 2:
		line = "stripe.api_key = \"" + g.Stripe() + "\"\n"
	case 3:
		line = "SLACK_BOT_TOKEN=" + g.Slack() + "\n"
	case 4:
		line = "sendgrid_key: " + g.SendGrid() + "\n"
	case 5:
		line = "//registry.npmjs.org/:_authToken=" + g.NPM() + "\n"
	case 6:
		line = "DATABASE_URL=postgres://app:" + g.PostgresPassword() + "@db.prod.internal:5432/app\n"
	case 7:
		line = g.PrivateKey()
	case 8:
		line = "export VAULT_TOKEN=" + g.VaultToken() + "\n"
	}
	mid := strings.Index(content[len(content)/2:], "\n") + len(content)/2 + 1
	return content[:mid] + line + content[mid:]
}
