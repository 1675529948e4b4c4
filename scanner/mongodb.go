package scanner

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors"
	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors/mongodb"
)

// mongoDB is TruffleHog's MongoDB detector with its placeholder filter
// mended. Upstream skips a password as a placeholder when it matches
// `^[xX]+|\*+$`: the alternation lacks a group, so every password that
// starts with x or X (or ends in *) is skipped, not only "xxxx" and
// "****". A random password starts with x or X about one time in 31, and
// its leak went unreported. Here such a credential is found again: the
// connection string is handed to the upstream detector with the password
// swapped for a stand-in its filter passes, and the real password is put
// back in the result, so the value (and its fingerprint) is spelled as
// upstream spells every other MongoDB finding.
type mongoDB struct{ mongodb.Scanner }

var (
	// mongoPassword locates user:password@ in a MongoDB URI as the upstream
	// pattern does (the same greedy groups, so the same split).
	mongoPassword = regexp.MustCompile(`\bmongodb(?:\+srv)?://(\S{3,50}):(\S{3,88})@[-.%\w]`)
	// upstreamSkips is the upstream filter as written; mongoPlaceholder is
	// what it means to do: a password that is only x's or only stars.
	upstreamSkips    = regexp.MustCompile(`^[xX]+|\*+$`)
	mongoPlaceholder = regexp.MustCompile(`^(?:[xX]+|\*+)$`)
)

// mongoStandIn replaces a password for the upstream detector: letters and
// digits only, so it is spelled the same escaped or not.
const mongoStandIn = "pushvaultStandIn7"

// errMongoUnverified is the verification error of a credential the
// upstream detector could not be asked to verify (it saw the stand-in).
var errMongoUnverified = errors.New("not verified: found past the upstream detector's placeholder filter")

// FromData implements detectors.Detector.
func (m mongoDB) FromData(ctx context.Context, verify bool, data []byte) ([]detectors.Result, error) {
	results, err := m.Scanner.FromData(ctx, verify, data)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, idx := range mongoPassword.FindAllSubmatchIndex(data, -1) {
		pw := string(data[idx[4]:idx[5]])
		if !upstreamSkips.MatchString(pw) || mongoPlaceholder.MatchString(pw) {
			continue
		}
		// The connection string to the end of its line, the password
		// swapped for the stand-in.
		end := len(data)
		if i := strings.IndexAny(string(data[idx[5]:]), "\r\n"); i >= 0 {
			end = idx[5] + i
		}
		line := string(data[idx[0]:idx[4]]) + mongoStandIn + string(data[idx[5]:end])
		found, err := m.Scanner.FromData(ctx, false, []byte(line))
		if err != nil {
			return nil, err
		}
		// The password as url.URL spells it in the upstream value: read
		// (percent-decoded) and written back, as upstream's url.Parse and
		// String do.
		u, err := url.Parse("mongodb://u:" + pw + "@h")
		if err != nil || u.User == nil {
			continue // upstream's url.Parse refuses it too
		}
		user := u.User.String()
		escaped := user[strings.IndexByte(user, ':')+1:]
		for _, r := range found {
			raw := string(r.Raw)
			if !strings.Contains(raw, mongoStandIn) {
				continue
			}
			raw = strings.ReplaceAll(raw, mongoStandIn, escaped)
			if seen[raw] {
				continue
			}
			seen[raw] = true
			r.Raw = []byte(raw)
			if verify {
				r.SetVerificationError(errMongoUnverified)
			}
			results = append(results, r)
		}
	}
	return results, nil
}
