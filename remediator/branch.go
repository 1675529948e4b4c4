package remediator

import "strings"

// FixBranchPrefix starts the name of every branch pushvault commits a fix
// to; nothing else names one.
const FixBranchPrefix = "pushvault/fix-"

// FixBranch is the branch the fix of head is committed to:
// pushvault/fix-<first 7 hex digits of head>.
func FixBranch(head string) string {
	if len(head) > 7 {
		head = head[:7]
	}
	return FixBranchPrefix + head
}

// IsFixBranch says whether branch (without refs/heads/) is a fix branch.
func IsFixBranch(branch string) bool { return strings.HasPrefix(branch, FixBranchPrefix) }
