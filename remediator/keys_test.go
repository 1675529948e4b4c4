package remediator_test

import (
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/secrettest"
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
	v, p := fixOne(t, files, "PrivateKey")
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
