package githubapp

import (
	"strings"
	"unicode/utf8"
)

// Commands a person may comment on a repository's "Exposed in history"
// issue. Each needs the role the server sets (github.action_permission,
// default maintain), asked of GitHub for the commenter.
const (
	// CommandRescanHistory backfills the repository again (a new request).
	CommandRescanHistory = "/pushvault rescan-history"
	// CommandFalsePositive FINDING-ID REASON closes an item as not a secret.
	CommandFalsePositive = "/pushvault false-positive"
	// CommandAcceptRisk FINDING-ID REASON closes an item as an accepted risk.
	CommandAcceptRisk = "/pushvault accept-risk"
)

// MaxReason bounds the reason a command records, in characters.
const MaxReason = 200

// Command is a command read from a comment.
type Command struct {
	// Name is one of the Command* constants.
	Name string
	// FindingID and Reason are the arguments of the closing commands.
	FindingID string
	Reason    string
}

// ParseCommand reads the first line of a comment that starts with one of
// the commands; ok is false when none does. Other text around it is
// ignored, so a command can come with an explanation.
func ParseCommand(body string) (Command, bool) {
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		for _, name := range []string{CommandRescanHistory, CommandFalsePositive, CommandAcceptRisk} {
			rest, found := strings.CutPrefix(line, name)
			if !found || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
				continue
			}
			c := Command{Name: name}
			if name != CommandRescanHistory {
				fields := strings.Fields(rest)
				if len(fields) > 0 {
					c.FindingID = fields[0]
					c.Reason = strings.Join(fields[1:], " ")
				}
				if utf8.RuneCountInString(c.Reason) > MaxReason {
					c.Reason = string([]rune(c.Reason)[:MaxReason]) + "…"
				}
			}
			return c, true
		}
	}
	return Command{}, false
}

// IsHistoryIssue reports whether body is that of an "Exposed in history"
// issue pushvault wrote.
func IsHistoryIssue(body string) bool { return strings.HasPrefix(body, historyMarker) }
