package remediator

import (
	"fmt"
	"strings"
)

// FixMessage is the fix commit's message: the findings, redacted, with where
// each now lives and the manual steps left.
func FixMessage(plan *Plan) string {
	var b strings.Builder
	n := len(plan.Secrets)
	fmt.Fprintf(&b, "pushvault: move %d secret%s to %s\n\n", n, plural(n), plan.Store())
	fmt.Fprintf(&b, "Each hard-coded secret below now lives in %s; the code reads it through\n", plan.Store())
	b.WriteString("the reference instead (code: environment variables mapped in vault.env,\n")
	b.WriteString("run with `pushvault exec --env-file vault.env -- COMMAND`).\n\n")
	for _, v := range plan.Secrets {
		first := v.Finding.First()
		fmt.Fprintf(&b, "- %s %s at %s (%s): %s version %d\n", v.Finding.Detector, v.Finding.Redacted,
			first.Where(), v.Finding.ID, v.Location(), v.Stored.Version)
		for _, m := range v.Manual {
			fmt.Fprintf(&b, "  manual step, %s: %s\n", m.Where(), m.Step)
		}
	}
	b.WriteString("\nThe exposed values remain in git history: each must be rotated or revoked\n")
	b.WriteString("(see the rotation outcome in pushvault's report and evidence ledger).\n")
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
