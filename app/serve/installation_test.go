package serve_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// TestUninstallWithoutRepositoryList sends GHES 3.5's recorded deliveries
// (@octokit/webhooks-examples) in the order an installation lives: created
// with Codertocat/Hello-World, Codertocat/Space added, then deleted; GHES's
// `installation` `deleted` carries no repository list. A second
// installation's addition (the recording with its id and repository
// changed) must keep its coverage. The uninstall must record the removal
// of every repository the installation covered, and of nothing else.
func TestUninstallWithoutRepositoryList(t *testing.T) {
	e := startServe(t)
	recs := recordings(t, map[string]bool{"installation": true, "installation_repositories": true})
	pick := func(event, action string) recording {
		for _, r := range recs {
			if strings.HasPrefix(r.name, "package/ghes-35/") && r.event == event && r.payload["action"] == action {
				return r
			}
		}
		t.Fatalf("no GHES 3.5 recording of %s %s", event, action)
		return recording{}
	}
	other := pick("installation_repositories", "added")
	other.payload = decodeObject(t, mustJSON(t, other.payload)) // a deep copy
	obj(other.payload, "installation")["id"] = 6
	other.payload["repositories_added"].([]any)[0].(map[string]any)["full_name"] = "Codertocat/Other"
	deleted := pick("installation", "deleted")
	if _, ok := deleted.payload["repositories"]; ok {
		t.Fatal("the GHES recording of installation deleted lists repositories: it no longer shows the case")
	}
	for i, r := range []recording{pick("installation", "created"), pick("installation_repositories", "added"), other, deleted} {
		delivery := fmt.Sprintf("life-%d", i)
		if status := deliver(t, e.srv.URL, e.app.WebhookSecret, delivery, r); status != http.StatusAccepted {
			t.Fatalf("%s: status %d", r.name, status)
		}
		// In order: the uninstall must come after what it undoes.
		queuetest.Eventually(t, delivery+" processed", func() bool { return e.got.count() > i })
		if err := e.got.of(delivery); err != nil {
			t.Fatalf("%s: %v\n%s", r.name, err, e.logs)
		}
	}
	recsNow, err := e.s.Ledger.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, r := range recsNow {
		if r.Transition == evidence.RepositoryRemoved {
			removed = append(removed, r.Repository+" by "+r.Detail["installation_id"])
		}
	}
	slices.Sort(removed)
	want := []string{"Codertocat/Hello-World by 5", "Codertocat/Space by 5"}
	if !slices.Equal(removed, want) {
		t.Errorf("repository_removed records: %q, want %q", removed, want)
	}
}
