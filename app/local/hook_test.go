package local

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/internal/gittest"
)

func TestResolveHookOptions(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		opts    HookOptions
		env     map[string]string
		config  map[string]string
		want    HookOptions
		wantErr []string
	}{
		{
			name: "defaults",
			want: HookOptions{Budget: DefaultHookBudget, OnTimeout: OnTimeoutReject, Repository: "local/shop"},
		},
		{
			name:   "git config",
			config: map[string]string{"pushvault.budget": "1500ms", "pushvault.onTimeout": "accept", "pushvault.repository": "acme/shop"},
			want:   HookOptions{Budget: 1500 * time.Millisecond, OnTimeout: OnTimeoutAccept, Repository: "acme/shop"},
		},
		{
			name:   "environment over git config",
			env:    map[string]string{"PUSHVAULT_HOOK_BUDGET": "2s", "PUSHVAULT_HOOK_ON_TIMEOUT": "reject"},
			config: map[string]string{"pushvault.budget": "9s", "pushvault.onTimeout": "accept"},
			want:   HookOptions{Budget: 2 * time.Second, OnTimeout: OnTimeoutReject, Repository: "local/shop"},
		},
		{
			name: "flags over everything",
			opts: HookOptions{Budget: time.Second, OnTimeout: OnTimeoutAccept, Repository: "a/b"},
			env:  map[string]string{"PUSHVAULT_HOOK_BUDGET": "2s", "PUSHVAULT_REPOSITORY": "c/d"},
			want: HookOptions{Budget: time.Second, OnTimeout: OnTimeoutAccept, Repository: "a/b"},
		},
		{
			name: "push options",
			env:  map[string]string{"GIT_PUSH_OPTION_COUNT": "2", "GIT_PUSH_OPTION_0": "ci.skip", "GIT_PUSH_OPTION_1": "pushvault.skip=incident"},
			want: HookOptions{Budget: DefaultHookBudget, OnTimeout: OnTimeoutReject, Repository: "local/shop",
				PushOptions: []string{"ci.skip", "pushvault.skip=incident"}},
		},
		{
			name: "who may skip: the server's list, matched against the platform's pusher",
			env:  map[string]string{"PUSHVAULT_HOOK_SKIP_ALLOWED": "ops, alice", "GL_USERNAME": "alice"},
			want: HookOptions{Budget: DefaultHookBudget, OnTimeout: OnTimeoutReject, Repository: "local/shop",
				Pusher: "alice (GL_USERNAME)", PusherID: "alice", SkipAllowed: []string{"ops", "alice"}},
		},
		{
			name:   "inline_allow: git config, then the environment over it",
			config: map[string]string{"pushvault.inlineAllow": "ignore"},
			want:   HookOptions{Budget: DefaultHookBudget, OnTimeout: OnTimeoutReject, Repository: "local/shop", InlineAllow: policy.InlineIgnore},
		},
		{
			name:   "inline_allow from the environment",
			env:    map[string]string{"PUSHVAULT_HOOK_INLINE_ALLOW": "honour"},
			config: map[string]string{"pushvault.inlineAllow": "ignore"},
			want:   HookOptions{Budget: DefaultHookBudget, OnTimeout: OnTimeoutReject, Repository: "local/shop", InlineAllow: policy.InlineHonour},
		},
		{
			name:   "every bad setting at once",
			env:    map[string]string{"PUSHVAULT_HOOK_BUDGET": "soon"},
			config: map[string]string{"pushvault.onTimeout": "maybe", "pushvault.repository": "shop", "pushvault.inlineAllow": "always"},
			wantErr: []string{`PUSHVAULT_HOOK_BUDGET: budget "soon"`, `git config pushvault.onTimeout: onTimeout "maybe"`,
				`git config pushvault.repository: repository "shop": want OWNER/REPO`,
				`git config pushvault.inlineAllow: inline_allow "always" is not one of honour, record, ignore`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir() + "/shop.git"
			r := gittest.Bare(t)
			r.Git("clone", "-q", "--bare", r.Dir, dir)
			for k, v := range tc.config {
				r.Git("-C", dir, "config", k, v)
			}
			t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
			tc.opts.Dir = dir
			got, err := ResolveHookOptions(ctx, tc.opts, func(k string) string { return tc.env[k] })
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Dir = dir
			if tc.want.InlineAllow == "" {
				tc.want.InlineAllow = policy.DefaultInlineAllow
			}
			if tc.want.Pusher == "" {
				tc.want.Pusher = "unknown pusher" // the test environment names no pusher
			}
			tc.want.AuditLog = filepath.Join(dir, "hooks", "pushvault-audit.jsonl")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRefUpdates(t *testing.T) {
	zero := strings.Repeat("0", 40)
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	in := zero + " " + a + " refs/heads/new\n" + a + " " + b + " refs/heads/main\n\n" + b + " " + zero + " refs/heads/gone\n"
	got, err := ParseRefUpdates(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, u := range got {
		tg, ok := u.target()
		if !ok {
			targets = append(targets, "skip "+u.Ref)
			continue
		}
		targets = append(targets, tg.String())
	}
	want := []string{a + " (new branch refs/heads/new)", a + ".." + b, "skip refs/heads/gone"}
	if diff := cmp.Diff(want, targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if _, err := ParseRefUpdates(strings.NewReader("only two\n")); err == nil {
		t.Error("a malformed line was accepted")
	}
}
