package scanner_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/scanner"
)

func TestSecretNeverPrints(t *testing.T) {
	const raw = "sk_live_51HqLyjWDarjtT1zdp7dcQZ8x"
	s := scanner.NewSecret(raw)
	f := scanner.Finding{Detector: "Stripe", Secret: s, Parts: map[string]scanner.Secret{"key": s}}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, f), fmt.Sprintf(verb, &f))
	}
	outputs = append(outputs, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(s), fmt.Errorf("wrap: %v", s).Error(), errors.New(s.String()).Error())
	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}), slog.NewTextHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("finding", "secret", s, "finding", f, slog.Any("ptr", &f))
	}
	outputs = append(outputs, logs.String())
	for _, o := range outputs {
		if strings.Contains(o, raw) || strings.Contains(o, raw[8:]) || strings.Contains(strings.ToLower(o), fmt.Sprintf("%x", raw[4:20])) {
			t.Errorf("secret leaked in %q", o)
		}
	}
	if s.Reveal() != raw {
		t.Errorf("Reveal lost the value")
	}
	if got := s.String(); got != "sk_l****" {
		t.Errorf("redacted form %q, want sk_l****", got)
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"":                     "",
		"short":                "****",
		"AKIAABCDEFGHIJKLMNOP": "AKIA****",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----": "-----BEGIN RSA PRIVATE KEY-----****",
		"line one secret\nline two": "****",
	}
	for in, want := range cases {
		if got := scanner.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
