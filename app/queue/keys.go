package queue

import (
	"fmt"
	"strconv"
)

// The claim store's keys: every key pushvault claims is built here and
// nowhere else, so two writers of one fact cannot drift apart. Keys hold
// names and ids only, never a secret.

// KeyCheckRun is the check run of a push's head (a re-run: one per
// request, named by what it asks, not by its delivery).
func KeyCheckRun(owner, repo, head, rescanFor string) string {
	k := fmt.Sprintf("checkrun/%s/%s/%s", owner, repo, head)
	if rescanFor != "" {
		k += "/rescan/" + rescanFor
	}
	return k
}

// KeyCheckRunComplete is the completion of check run id.
func KeyCheckRunComplete(owner, repo string, id int64) string {
	return fmt.Sprintf("checkrun-complete/%s/%s/%d", owner, repo, id)
}

// KeyCheckRunNote is a note (what: "merged", "false-positive") on check run id.
func KeyCheckRunNote(owner, repo string, id int64, what string) string {
	return fmt.Sprintf("checkrun-note/%s/%s/%d/%s", owner, repo, id, what)
}

// KeyRunPush is the push a check run scanned (for its Re-scan and Approve buttons).
func KeyRunPush(owner, repo string, id int64) string {
	return fmt.Sprintf("push-of-run/%s/%s/%d", owner, repo, id)
}

// KeyRunFindings is a check run's findings (for its False positive button).
func KeyRunFindings(owner, repo string, id int64) string {
	return fmt.Sprintf("findings-of-run/%s/%s/%d", owner, repo, id)
}

// KeyRotationIssue is the manual-rotation issue of a finding (its number
// and URL).
func KeyRotationIssue(owner, repo, findingID string) string {
	return "rotation-issue/" + owner + "/" + repo + "/" + findingID
}

// KeyRotationIssueSent is the fact that a request to open a finding's
// manual-rotation issue went out (GitHub may have opened it even when its
// answer was lost).
func KeyRotationIssueSent(owner, repo, findingID string) string {
	return "rotation-issue-sent/" + owner + "/" + repo + "/" + findingID
}

// KeyFix is the fix pull request of a fix branch.
func KeyFix(owner, repo, branch string) string { return "fix/" + owner + "/" + repo + "/" + branch }

// KeyFixCommit is the fact that pushvault made commit for fix branch
// branch: the one push to a pushvault/* branch that is not scanned.
func KeyFixCommit(owner, repo, branch, commit string) string {
	return "fix-commit/" + owner + "/" + repo + "/" + branch + "/" + commit
}

// KeyDeliveryRecord is one coverage record of an installation delivery.
func KeyDeliveryRecord(delivery, transition, repo string) string {
	return "delivery/" + delivery + "/" + transition + "/" + repo
}

// KeyDeliveryState is what became of a delivery (DeliveryDone or
// DeliveryDead), consulted when GitHub sends it again.
func KeyDeliveryState(delivery string) string { return "delivery-state/" + delivery }

// KeyDeferrals counts the times a delivery was deferred (queue.Deferral),
// which do not count as attempts.
func KeyDeferrals(delivery string) string { return "delivery-deferrals/" + delivery }

// KeyBackfill is one request's backfill of a repository's history: done
// once, whatever the redeliveries, crashes and replicas.
func KeyBackfill(owner, repo, request string) string {
	return "backfill/" + owner + "/" + repo + "/" + request
}

// KeyHistoryIssue is a repository's "Exposed in history" issue (its number).
func KeyHistoryIssue(owner, repo string) string { return "history-issue/" + owner + "/" + repo }

// KeyCommentReply is pushvault's reply to comment id on repo (owner/name).
func KeyCommentReply(repo string, id int64) string {
	return "comment-reply/" + repo + "/" + strconv.FormatInt(id, 10)
}
