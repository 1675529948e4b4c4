package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Asking a command for help is not an error: -h prints the command's usage
// and exits 0, as `pushvault -h` does.
func TestHelpExitsZero(t *testing.T) {
	cases := []struct {
		args []string
		want string // in the usage printed
	}{
		{[]string{"-h"}, "Usage:"},
		{[]string{"scan", "-h"}, "-format"},
		{[]string{"rotated", "-h"}, "-actor"},
		{[]string{"exec", "-h"}, "-env-file"},
		{[]string{"hook", "-h"}, "pre-receive"},
		{[]string{"hook", "pre-receive", "-h"}, "-budget"},
		{[]string{"hook", "install", "-h"}, "hook install"},
		{[]string{"serve", "-h"}, "-config"},
		{[]string{"setup", "-h"}, "-manifest"},
		{[]string{"setup", "--help"}, "-manifest"},
		{[]string{"evidence", "-h"}, "verify|export"},
		{[]string{"evidence", "verify", "-h"}, "-ledger"},
		{[]string{"evidence", "export", "-h"}, "-format"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != exitOK {
				t.Errorf("exit %d, want %d\nstderr: %s", code, exitOK, stderr.String())
			}
			if out := stdout.String() + stderr.String(); !strings.Contains(out, tc.want) {
				t.Errorf("usage does not mention %q:\n%s", tc.want, out)
			}
		})
	}
}
