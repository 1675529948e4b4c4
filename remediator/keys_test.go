package remediator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/scanner"
)

// A PuTTY key file (.ppk) holds nothing but the key: like a PEM key file,
// the fix deletes it and maps the key in vault.env, instead of finding no
// PEM block in it and leaving it silently.
func TestPipelineDeletesAPuTTYKeyFile(t *testing.T) {
	g := secrettest.Fresh(t)
	var body []string
	for range 4 {
		body = append(body, g.Alnum(64))
	}
	ppk := "PuTTY-User-Key-File-2: ssh-rsa\r\nEncryption: none\r\nComment: deploy\r\nPublic-Lines: 1\r\n" + g.Alnum(64) +
		"\r\nPrivate-Lines: 4\r\n" + strings.Join(body, "\r\n") + "\r\nPrivate-MAC: " + g.Hex(40) + "\r\n"
	files := map[string]string{"deploy/id_deploy.ppk": ppk}
	r := gittest.New(t)
	r.Commit("", "key", files)
	scan, err := scanner.New().Scan(context.Background(), r.Dir, scanner.All())
	if err != nil || len(scan.Findings) != 1 || scan.Findings[0].Detector != "PrivateKey" {
		t.Fatalf("scan: %v, %d findings, want the PuTTY key as a PrivateKey", err, len(scan.Findings))
	}
	p := newPorts()
	res, err := p.run(t, scan.Findings, files)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	v := res.Plan.Secrets[0]
	if len(v.Edits) != 1 || !v.Edits[0].Deleted || v.Edits[0].Path != "deploy/id_deploy.ppk" {
		t.Fatalf("edits %+v, want the key file deleted", v.Edits)
	}
	if content, ok := p.fix.Files["deploy/id_deploy.ppk"]; !ok || content != nil {
		t.Errorf("the fix does not delete the key file")
	}
	if !strings.Contains(string(p.fix.Files["vault.env"]), "ID_DEPLOY_PPK=vault:") {
		t.Errorf("vault.env does not map the key:\n%s", p.fix.Files["vault.env"])
	}
}
