package awstest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"time"
)

const (
	statusActive   = "Active"
	statusInactive = "Inactive"
)

// user is an IAM user.
type user struct {
	name, path, id string
	created        time.Time
	keys           []*accessKey      // in creation order
	inline         map[string]string // policy name -> document
	attached       []string          // policy ARNs
	groups         []string
	tags           []tag
	root           bool // the account's root user: not listed, ARN …:root
}

// tag is an IAM or Secrets Manager tag.
type tag struct{ key, value string }

// accessKey is an IAM access key. deleted keys stay in Server.keys so that
// a request signed with one is told apart from a never-issued key only in
// the stand-in's records, never in its answer.
type accessKey struct {
	id, secret string
	user       *user
	status     string
	created    time.Time
	deleted    bool
}

// role is an IAM role that AssumeRole can assume.
type role struct {
	name, path, id string
	created        time.Time
	maxSession     time.Duration
	inline         map[string]string // policy name -> document
}

// session is a temporary credential from STS.
type session struct {
	keyID, secret, token string
	expires              time.Time
	role                 *role  // AssumeRole
	name                 string // the role session name, or the federated user's name
	user                 *user  // GetSessionToken: the user it acts as
	federated            bool   // GetFederationToken: a federated user called name
	policy               string // the session policy it was given, if any
}

// group is an IAM group, made by tests with CreateGroup.
type group struct{ name, path, id string }

const upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// randID returns prefix followed by n characters of AWS's id alphabet
// (upper-case letters and the digits 2-7, as in AKIA… key ids).
func randID(prefix string, n int) string {
	b := make([]byte, n)
	for i := range b {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(len(upperDigits))))
		if err != nil {
			panic(err)
		}
		b[i] = upperDigits[j.Int64()]
	}
	return prefix + string(b)
}

// randSecret returns a 40-character secret access key.
func randSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 40)
	for i := range b {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[j.Int64()]
	}
	return string(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// sessionToken is a new session token shaped as AWS's are: base64 that
// starts as STS's own do ("IQoJb3JpZ2luX2Vj", base64 of a header naming
// its origin), about 400 characters, so that a leaked one is recognised
// as the scanners recognise real ones.
func sessionToken() string {
	b := make([]byte, 300)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(b)
}
