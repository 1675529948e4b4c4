package awstest

import (
	"errors"
	"fmt"
	"time"
)

// Credentials is an AWS access key pair, with a session token for
// temporary credentials. String and GoString never show the secret parts.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

func (c Credentials) String() string {
	return "awstest.Credentials{" + c.AccessKeyID + " <secret redacted>}"
}
func (c Credentials) GoString() string { return c.String() }

// ErrExists is returned by the set-up methods for a name already taken.
var ErrExists = errors.New("already exists")

// ErrNotFound is returned for a user, key or role the stand-in lacks.
var ErrNotFound = errors.New("not found")

// CreateUser makes an IAM user at path "/" and returns its ARN, as IAM
// CreateUser does for an administrator.
func (s *Server) CreateUser(name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[name] != nil {
		return "", fmt.Errorf("user %s: %w", name, ErrExists)
	}
	u := s.newUser(name, "/", s.now())
	return s.userARN(u), nil
}

// newUser adds a user; s.mu is held.
func (s *Server) newUser(name, path string, now time.Time) *user {
	u := &user{name: name, path: path, id: randID("AIDA", 17), created: now, inline: map[string]string{}}
	s.users[name] = u
	return u
}

// CreateAccessKey issues an access key to a user (at most two per user,
// as IAM allows) and returns the pair.
func (s *Server) CreateAccessKey(userName string) (Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userName]
	if u == nil {
		return Credentials{}, fmt.Errorf("user %s: %w", userName, ErrNotFound)
	}
	k, err := s.newKey(u, s.now())
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{AccessKeyID: k.id, SecretAccessKey: k.secret}, nil
}

// errKeyQuota is IAM's two-keys-per-user quota.
var errKeyQuota = clientErr(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")

// newKey issues a key; s.mu is held.
func (s *Server) newKey(u *user, now time.Time) (*accessKey, error) {
	if len(u.keys) >= 2 {
		return nil, errKeyQuota
	}
	k := &accessKey{id: randID("AKIA", 16), secret: randSecret(), user: u, status: statusActive, created: now}
	u.keys = append(u.keys, k)
	s.keys[k.id] = k
	return k, nil
}

// CreateRootKey issues an access key of the account's root user (at most
// two, as for any user): GetCallerIdentity answers arn:aws:iam::ACCOUNT:root
// for it. IAM calls that name no user act on the root user.
func (s *Server) CreateRootKey() (Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root == nil {
		s.root = &user{name: "root", path: "/", id: s.account, created: s.now(), inline: map[string]string{}, root: true}
	}
	k, err := s.newKey(s.root, s.now())
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{AccessKeyID: k.id, SecretAccessKey: k.secret}, nil
}

// CreateRole makes an IAM role (maximum session 1 h) that any caller of
// the account may assume, and returns its ARN.
func (s *Server) CreateRole(name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roles[name] != nil {
		return "", fmt.Errorf("role %s: %w", name, ErrExists)
	}
	r := &role{name: name, path: "/", id: randID("AROA", 17), created: s.now(), maxSession: time.Hour}
	s.roles[name] = r
	return s.roleARN(r), nil
}

// CreateGroup makes an IAM group that AddUserToGroup can name.
func (s *Server) CreateGroup(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[name] != nil {
		return fmt.Errorf("group %s: %w", name, ErrExists)
	}
	s.groups[name] = &group{name: name, path: "/", id: randID("AGPA", 17)}
	return nil
}

// KeyInfo is an access key as a test sees it: no secret.
type KeyInfo struct {
	AccessKeyID string
	UserName    string
	Status      string // "Active" or "Inactive"
	Created     time.Time
}

// AccessKeys returns a user's keys in creation order (deleted ones are
// gone, as in IAM); ErrNotFound for an unknown user.
func (s *Server) AccessKeys(userName string) ([]KeyInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userName]
	if u == nil {
		return nil, fmt.Errorf("user %s: %w", userName, ErrNotFound)
	}
	out := make([]KeyInfo, 0, len(u.keys))
	for _, k := range u.keys {
		out = append(out, KeyInfo{AccessKeyID: k.id, UserName: u.name, Status: k.status, Created: k.created})
	}
	return out, nil
}

// UserNames lists the IAM users, in no particular order.
func (s *Server) UserNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.users))
	for n := range s.users {
		out = append(out, n)
	}
	return out
}
