package handler

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator"
)

// The webhook endpoint leaves unqueued only the pushes Run would ignore:
// what the payload alone says (a deletion, a ref that is neither a branch
// nor a tag, a tag of no commit, no installation), and the App's bot
// pushing the very commit pushvault remembered making for that fix branch
// once the bot's login is known. Anything else, and anything Ignore
// cannot tell, is queued.
func TestPushIgnoreAtIntake(t *testing.T) {
	q := queuetest.Open(t, queuetest.Config())
	pp := &Push{claims: q.Claims()}
	ctx := context.Background()
	made := strings.Repeat("a", 40)
	other := strings.Repeat("b", 40)
	branch := remediator.FixBranch(other)

	event := func(ref, after, sender, senderType string, deleted bool, installation bool) githubapp.Event {
		p := map[string]any{
			"ref": ref, "before": other, "after": after, "deleted": deleted,
			"repository": map[string]any{"id": 1, "name": "svc", "full_name": "acme/svc", "owner": map[string]any{"login": "acme"}},
			"pusher":     map[string]any{"name": sender},
			"sender":     map[string]any{"login": sender, "type": senderType},
		}
		if installation {
			p["installation"] = map[string]any{"id": 7}
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return githubapp.Event{DeliveryID: "d", Event: "push", Payload: b}
	}
	const bot = "pushvault[bot]"
	check := func(what string, ev githubapp.Event, want string) {
		t.Helper()
		if got := pp.Ignore(ctx, ev); got != want {
			t.Errorf("%s: Ignore = %q, want %q", what, got, want)
		}
	}

	own := event("refs/heads/"+branch, made, bot, "Bot", false, true)
	check("the bot's fix push before its login is known", own, "")
	pp.bot.bot = bot
	check("the bot's fix push before pushvault remembered the commit", own, "")
	if err := rememberFixCommit(ctx, pp.claims, "acme", "svc", remediator.FixCommit{Branch: branch, Commit: made}); err != nil {
		t.Fatal(err)
	}
	check("the bot's own fix commit", own, ownFixIgnored)
	pp.bot.bot = ""
	check("the commit pushed by a bot without a login, the App's not known", event("refs/heads/"+branch, made, "", "Bot", false, true), "")
	check("the bot's own fix commit, its login forgotten", own, "")
	pp.bot.bot = bot
	check("another commit on the fix branch", event("refs/heads/"+branch, other, bot, "Bot", false, true), "")
	check("a person pushing the same commit", event("refs/heads/"+branch, made, bot, "User", false, true), "")
	check("another bot pushing it", event("refs/heads/"+branch, made, "dependabot[bot]", "Bot", false, true), "")
	check("the commit pushed to another branch", event("refs/heads/main", made, bot, "Bot", false, true), "")

	check("a branch deletion", event("refs/heads/main", strings.Repeat("0", 40), "dev", "User", true, true), "push deletes a ref")
	check("a note ref", event("refs/notes/commits", other, "dev", "User", false, true), "push is to neither a branch nor a tag")
	check("a push without an installation", event("refs/heads/main", other, "dev", "User", false, false), "push without an installation")
	check("a push to main", event("refs/heads/main", other, "dev", "User", false, true), "")
	check("an undecodable payload", githubapp.Event{Event: "push", Payload: []byte(`{"ref": 1}`)}, "")
}
