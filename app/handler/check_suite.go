package handler

import (
	"context"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
)

// CheckSuite acts on GitHub's "Re-run all checks" (action rerequested on
// pushvault's check suite) as on a check run's "Re-run": the suite's push
// is scanned again under a check run of its own. GitHub also sends this
// App's suites' requested and completed actions: nothing to do for those.
type CheckSuite struct{ pp *Push }

// NewCheckSuite returns the check_suite handler over pp's services.
func NewCheckSuite(pp *Push) *CheckSuite { return &CheckSuite{pp: pp} }

// Handles implements Handler.
func (h *CheckSuite) Handles() []string { return []string{"check_suite"} }

var _ ActionFilter = (*CheckSuite)(nil)

// Acts implements ActionFilter: "Re-run all checks" only.
func (h *CheckSuite) Acts(_, action string) bool { return action == "rerequested" }

// Handle implements Handler.
func (h *CheckSuite) Handle(ctx context.Context, ev githubapp.Event) error {
	var se githubapp.CheckSuitePayload
	if err := ev.Decode(&se); err != nil {
		return queue.Permanent(err)
	}
	suite := se.CheckSuite
	if se.Action != "rerequested" || !h.pp.ours(suite.App.ID) {
		return nil
	}
	p, err := h.pp.rescanOf(ctx, ev, rerun{Repository: se.Repository, By: se.Sender.Login,
		HeadSHA: suite.HeadSHA, HeadBranch: suite.HeadBranch, Before: suite.Before,
		Request: checkSuiteRequest(suite.ID, suite.UpdatedAt, ev.DeliveryID)})
	if err != nil {
		return err
	}
	githubapp.Logger(ctx).Info("re-run of all checks requested", "by", se.Sender.Login)
	return h.pp.Run(ctx, p)
}
