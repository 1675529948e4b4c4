package awstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SigV4 constants as AWS documents them.
const (
	sigv4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	// MaxSkew is how far a request's X-Amz-Date may be from the stand-in's
	// clock, either way: AWS refuses a signature older than 5 minutes
	// ("Signature expired") or more than 5 minutes ahead ("Signature not
	// yet current").
	MaxSkew = 5 * time.Minute
)

// sigv4Header is a parsed Authorization header.
type sigv4Header struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

// errIncomplete is an Authorization header that is not a SigV4 one.
var errIncomplete = errors.New("incomplete signature")

func parseAuthorization(h string) (*sigv4Header, error) {
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != sigv4Algorithm {
		return nil, fmt.Errorf("%w: authorization header is not %s", errIncomplete, sigv4Algorithm)
	}
	a := &sigv4Header{}
	var cred string
	var haveHeaders, haveSig bool
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("%w: malformed authorization component", errIncomplete)
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
			haveHeaders = v != ""
		case "Signature":
			a.signature = v
			haveSig = v != ""
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[0] == "" {
		return nil, fmt.Errorf("%w: credential must have five slash-separated parts ending in aws4_request", errIncomplete)
	}
	if !haveHeaders || !haveSig {
		return nil, fmt.Errorf("%w: SignedHeaders and Signature are required", errIncomplete)
	}
	a.keyID, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	return a, nil
}

// canonicalRequest builds SigV4's canonical request for r (as received by
// a server) with the given body and signed headers, for a service other
// than S3: the path is normalised and each segment URI-encoded again.
func canonicalRequest(r *http.Request, body []byte, signed []string) (string, error) {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(rawPath(r)))
	b.WriteByte('\n')
	q, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	b.WriteString(q)
	b.WriteByte('\n')
	prev := ""
	for _, h := range signed {
		if h != strings.ToLower(h) || h <= prev {
			return "", errors.New("signed headers must be lower case and sorted")
		}
		prev = h
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String(), nil
}

// rawPath is the path as the client sent it (the request target before
// any query), which is what the client signed.
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if p == "" || p == "*" || !strings.HasPrefix(p, "/") {
		return r.URL.EscapedPath()
	}
	p, _, _ = strings.Cut(p, "?")
	return p
}

func canonicalURI(raw string) string {
	if raw == "" {
		return "/"
	}
	clean := path.Clean(raw)
	if strings.HasSuffix(raw, "/") && clean != "/" {
		clean += "/"
	}
	segs := strings.Split(clean, "/")
	for i, s := range segs {
		segs[i] = uriEncode(s, true)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return "", err
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return "", err
		}
		pairs = append(pairs, kv{uriEncode(dk, true), uriEncode(dv, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&"), nil
}

// uriEncode is SigV4's UriEncode: every byte but the unreserved ones
// (A-Z a-z 0-9 - . _ ~) as %XX in upper case; '/' kept unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func canonicalHeaderValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		if r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// signingKey derives SigV4's signing key from a secret access key.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigv4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// authProblem is why a request's authentication failed, in AWS's terms.
type authProblem int

const (
	authMissing        authProblem = iota + 1 // no Authorization header
	authIncomplete                            // not a well-formed SigV4 header
	authUnknownKey                            // unknown, inactive or deleted key; bad session token
	authExpiredToken                          // a session whose credentials expired
	authBadSignature                          // the signature does not match
	authSkewed                                // X-Amz-Date too far from the clock
	authWrongScope                            // region or service outside the scope served
	authMissingDateSig                        // X-Amz-Date (or Date) not signed, or host not signed
)

// authError is a failed authentication; its message is AWS's and names no
// secret.
type authError struct {
	problem authProblem
	msg     string
}

func (e *authError) Error() string { return e.msg }

// verified is who signed a request.
type verified struct {
	key   *accessKey // a long-lived key, or nil
	sess  *session   // a temporary credential, or nil
	scope sigv4Header
}

// verify checks r's SigV4 signature over body against the credentials
// the stand-in issued, at time now, for one of the regions allowed for
// the service named in the scope.
func (s *Server) verify(r *http.Request, body []byte, now time.Time) (*verified, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, &authError{authMissing, "Request is missing Authentication Token"}
	}
	a, err := parseAuthorization(h)
	if err != nil {
		return nil, &authError{authIncomplete, err.Error()}
	}
	signed := map[string]bool{}
	for _, n := range a.signedHeaders {
		signed[n] = true
	}
	if !signed["host"] {
		return nil, &authError{authMissingDateSig, "'Host' must be a signed header"}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" || !signed["x-amz-date"] {
		return nil, &authError{authMissingDateSig, "Authorization header requires existence of a signed X-Amz-Date header"}
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return nil, &authError{authIncomplete, "X-Amz-Date is not in the basic ISO 8601 format YYYYMMDD'T'HHMMSS'Z'"}
	}
	if a.date != amzDate[:8] {
		return nil, &authError{authBadSignature, fmt.Sprintf("Credential should be scoped to a valid date, not %q (X-Amz-Date %s)", a.date, amzDate)}
	}
	if !s.regionAllowed(a.service, a.region) {
		return nil, &authError{authWrongScope, fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", a.region)}
	}
	v := &verified{scope: *a}
	var secret string
	s.mu.Lock()
	if k := s.keys[a.keyID]; k != nil && k.status == statusActive && !k.deleted {
		v.key, secret = k, k.secret
	} else if ss := s.sessions[a.keyID]; ss != nil {
		v.sess, secret = ss, ss.secret
	}
	s.mu.Unlock()
	if v.key == nil && v.sess == nil {
		return nil, &authError{authUnknownKey, "The security token included in the request is invalid."}
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if v.key != nil && token != "" {
		return nil, &authError{authUnknownKey, "The security token included in the request is invalid."}
	}
	if v.sess != nil {
		if token == "" || !hmac.Equal([]byte(token), []byte(v.sess.token)) {
			return nil, &authError{authUnknownKey, "The security token included in the request is invalid."}
		}
		if !signed["x-amz-security-token"] {
			return nil, &authError{authBadSignature, "X-Amz-Security-Token must be a signed header"}
		}
		if !now.Before(v.sess.expires) {
			return nil, &authError{authExpiredToken, "The security token included in the request is expired"}
		}
	}
	// Expired credentials are told before a skewed clock.
	if now.Sub(t) > MaxSkew {
		return nil, &authError{authSkewed, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)", amzDate, now.Add(-MaxSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat))}
	}
	if t.Sub(now) > MaxSkew {
		return nil, &authError{authSkewed, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)", amzDate, now.Add(MaxSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat))}
	}
	canonical, err := canonicalRequest(r, body, a.signedHeaders)
	if err != nil {
		return nil, &authError{authBadSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	scope := strings.Join([]string{a.date, a.region, a.service, "aws4_request"}, "/")
	want := hex.EncodeToString(hmacSHA256(signingKey(secret, a.date, a.region, a.service), stringToSign(amzDate, scope, canonical)))
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return nil, &authError{authBadSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return v, nil
}
