package contract

import (
	"errors"
	"net/http"
	"sync"
	"testing"
)

// TestConcurrentValidation validates from many goroutines at once, as the
// stand-in does; run it with -race.
func TestConcurrentValidation(t *testing.T) {
	s := mustLoad(t)
	w := mustLoadWebhooks(t)
	checkRun := fixture(t, "check_run.json")
	push := fixture(t, "push.json")
	broken := edit(t, checkRun, func(m map[string]any) { delete(m, "status") })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"name":"pushvault","head_sha":"` + headSHA + `"}`
			op, _, err := s.ValidateRequest(newRequest("POST", "/repos/acme/shop/check-runs", body), []byte(body))
			if err != nil {
				errs <- err
				return
			}
			h := http.Header{"Content-Type": {"application/json"}}
			if err := s.ValidateResponse(op, nil, 201, h, checkRun); err != nil {
				errs <- err
			}
			var v *Violation
			if err := s.ValidateResponse(op, nil, 201, h, broken); !errors.As(err, &v) {
				errs <- errors.New("broken check run passed")
			}
			if err := w.Validate("push", push); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
