package awstest

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// AdministratorAccess is the AWS-managed policy that allows everything;
// the only managed policy whose document the stand-in knows.
const AdministratorAccess = "arn:aws:iam::aws:policy/AdministratorAccess"

// WithPolicyEnforcement makes the stand-in evaluate IAM identity policies
// for every request but STS GetCallerIdentity (which AWS never denies): a
// user's inline policies and AdministratorAccess when attached, a role's
// inline policies (SetRolePolicy) intersected with the session policy
// AssumeRole was given, a federated user's session policy alone (the
// stand-in does not intersect it with the policies of the user who asked). An explicit Deny wins, then
// an Allow whose Action and Resource match (wildcards * and ?), else the
// request is denied: AccessDenied (query) or AccessDeniedException (JSON).
// The root user may do everything. Without it every authenticated caller
// may do everything.
func WithPolicyEnforcement() Option { return func(c *config) { c.enforce = true } }

// policyDoc is an IAM policy document; Action and Resource may be a string
// or a list.
type policyDoc struct {
	Statement []struct {
		Effect   string
		Action   stringOrList
		Resource stringOrList
	}
}

type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// decision is what one set of policies says about a request.
type decision int

const (
	implicitDeny decision = iota
	allow
	explicitDeny
)

func evaluate(docs []string, action, resource string) decision {
	d := implicitDeny
	for _, raw := range docs {
		var doc policyDoc
		if json.Unmarshal([]byte(raw), &doc) != nil {
			continue
		}
		for _, st := range doc.Statement {
			if !anyMatch(st.Action, action, true) || !anyMatch(st.Resource, resource, false) {
				continue
			}
			switch st.Effect {
			case "Deny":
				return explicitDeny
			case "Allow":
				d = allow
			}
		}
	}
	return d
}

func anyMatch(patterns []string, v string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, v = strings.ToLower(p), strings.ToLower(v)
		}
		// path.Match's * stops at '/', IAM's does not: match with the
		// slashes taken out of both.
		if ok, _ := path.Match(strings.ReplaceAll(p, "/", "\x00"), strings.ReplaceAll(v, "/", "\x00")); ok {
			return true
		}
	}
	return false
}

// SetRolePolicy sets an inline policy of a role (as IAM PutRolePolicy).
func (s *Server) SetRolePolicy(roleName, policyName, document string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.roles[roleName]
	if r == nil {
		return fmt.Errorf("role %s: %w", roleName, ErrNotFound)
	}
	if r.inline == nil {
		r.inline = map[string]string{}
	}
	r.inline[policyName] = document
	return nil
}

// SetUserPolicy sets an inline policy of a user (as IAM PutUserPolicy).
func (s *Server) SetUserPolicy(userName, policyName, document string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userName]
	if u == nil {
		return fmt.Errorf("user %s: %w", userName, ErrNotFound)
	}
	u.inline[policyName] = document
	return nil
}

// AttachUserPolicy attaches a managed policy to a user (as IAM
// AttachUserPolicy); only AdministratorAccess grants anything.
func (s *Server) AttachUserPolicy(userName, policyARN string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userName]
	if u == nil {
		return fmt.Errorf("user %s: %w", userName, ErrNotFound)
	}
	u.attached = append(u.attached, policyARN)
	return nil
}

func userDocs(u *user) (docs []string, admin bool) {
	for _, d := range u.inline {
		docs = append(docs, d)
	}
	for _, a := range u.attached {
		admin = admin || a == AdministratorAccess
	}
	return docs, admin
}

// authorize evaluates the caller's policies for action on resource; s.mu
// is held.
func (s *Server) authorize(v *verified, action, resource string) bool {
	switch {
	case v.key != nil && v.key.user.root:
		return true
	case v.key != nil:
		docs, admin := userDocs(v.key.user)
		return admin || evaluate(docs, action, resource) == allow
	case v.sess.user != nil: // GetSessionToken
		docs, admin := userDocs(v.sess.user)
		return admin || evaluate(docs, action, resource) == allow
	}
	var docs []string
	if v.sess.role != nil {
		for _, d := range v.sess.role.inline {
			docs = append(docs, d)
		}
	} else {
		docs = []string{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}
	}
	if evaluate(docs, action, resource) != allow {
		return false
	}
	if v.sess.policy != "" {
		return evaluate([]string{v.sess.policy}, action, resource) == allow
	}
	return true
}

// resourceOf is the ARN a request acts on, for policy evaluation; s.mu is
// held.
func (s *Server) resourceOf(c *call) string {
	switch c.svc {
	case "iam":
		if n, ok := c.in["UserName"].(string); ok {
			if u := s.users[n]; u != nil {
				return s.userARN(u)
			}
			return fmt.Sprintf("arn:aws:iam::%s:user/%s", s.account, n)
		}
		if c.caller.key != nil {
			return s.userARN(c.caller.key.user)
		}
		if c.caller.sess.user != nil {
			return s.userARN(c.caller.sess.user)
		}
		return "*"
	case "sts":
		if arn, ok := c.in["RoleArn"].(string); ok {
			return arn
		}
		return "*"
	default:
		id, _ := c.in["SecretId"].(string)
		if id == "" {
			id, _ = c.in["Name"].(string)
		}
		if sec := s.secrets[id]; sec != nil {
			return sec.arn
		}
		if strings.HasPrefix(id, "arn:") {
			return id
		}
		return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s", s.region, s.account, id)
	}
}

// denied returns the AccessDenied error for c, or nil when the caller may
// make the request (always without WithPolicyEnforcement).
func (s *Server) denied(c *call) *apiError {
	if !s.enforce || (c.svc == "sts" && c.op.Name == "GetCallerIdentity") {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	action := string(c.svc) + ":" + c.op.Name
	res := s.resourceOf(c)
	if s.authorize(c.caller, action, res) {
		return nil
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", s.callerARN(c.caller), action, res)
	if c.svc == "secretsmanager" {
		return clientErr(400, "AccessDeniedException", msg)
	}
	return clientErr(403, "AccessDenied", msg)
}
