package awstest

import (
	"fmt"
	"regexp"
	"time"
)

// userARN is a user's ARN.
func (s *Server) userARN(u *user) string {
	if u.root {
		return fmt.Sprintf("arn:aws:iam::%s:root", s.account)
	}
	return fmt.Sprintf("arn:aws:iam::%s:user%s%s", s.account, u.path, u.name)
}

func (s *Server) roleARN(r *role) string {
	return fmt.Sprintf("arn:aws:iam::%s:role%s%s", s.account, r.path, r.name)
}

func (s *Server) assumedRoleARN(ss *session) string {
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", s.account, ss.role.name, ss.name)
}

// getCallerIdentity answers STS GetCallerIdentity: the signing key's user,
// or the assumed role's session.
func (s *Server) getCallerIdentity(c *call) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{"Account": s.account}
	switch {
	case c.caller.key != nil && c.caller.key.user.root:
		out["Arn"], out["UserId"] = s.userARN(c.caller.key.user), s.account
	case c.caller.key != nil:
		u := c.caller.key.user
		out["Arn"], out["UserId"] = s.userARN(u), u.id
	case c.caller.sess.role != nil:
		out["Arn"], out["UserId"] = s.assumedRoleARN(c.caller.sess), c.caller.sess.role.id+":"+c.caller.sess.name
	case c.caller.sess.federated:
		out["Arn"], out["UserId"] = s.federatedARN(c.caller.sess), s.account+":"+c.caller.sess.name
	default: // a GetSessionToken session acts as its user
		u := c.caller.sess.user
		out["Arn"], out["UserId"] = s.userARN(u), u.id
	}
	return out, nil
}

func (s *Server) federatedARN(ss *session) string {
	return fmt.Sprintf("arn:aws:sts::%s:federated-user/%s", s.account, ss.name)
}

// longTermDuration reads DurationSeconds for GetSessionToken and
// GetFederationToken: 900 s to 36 h, 12 h when absent.
func longTermDuration(c *call) (time.Duration, error) {
	d := 12 * time.Hour
	if n, ok := c.in["DurationSeconds"].(int64); ok {
		d = time.Duration(n) * time.Second
	}
	if d < 15*time.Minute || d > 36*time.Hour {
		return 0, clientErr(400, "ValidationError", "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 129600")
	}
	return d, nil
}

func credentialsTree(ss *session) map[string]any {
	return map[string]any{
		"AccessKeyId":     ss.keyID,
		"SecretAccessKey": ss.secret,
		"SessionToken":    ss.token,
		"Expiration":      ss.expires,
	}
}

// getSessionToken answers STS GetSessionToken: only a user's long-term key
// may ask (AccessDenied otherwise, as STS answers temporary credentials);
// the session acts as that user.
func (s *Server) getSessionToken(c *call) (map[string]any, error) {
	d, err := longTermDuration(c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.caller.key == nil {
		return nil, clientErr(403, "AccessDenied", "Cannot call GetSessionToken with session credentials")
	}
	ss := &session{keyID: randID("ASIA", 16), secret: randSecret(), token: sessionToken(), expires: c.now.Add(d), user: c.caller.key.user}
	s.sessions[ss.keyID] = ss
	return map[string]any{"Credentials": credentialsTree(ss)}, nil
}

// federatedName is GetFederationToken's documented Name: 2 to 32 of
// [\w+=,.@-].
var federatedName = regexp.MustCompile(`^[\w+=,.@-]{2,32}$`)

// getFederationToken answers STS GetFederationToken: only a user's
// long-term key may ask; the session is the federated user Name.
func (s *Server) getFederationToken(c *call) (map[string]any, error) {
	name, _ := c.in["Name"].(string)
	if !federatedName.MatchString(name) {
		return nil, clientErr(400, "ValidationError", "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	d, err := longTermDuration(c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.caller.key == nil {
		return nil, clientErr(403, "AccessDenied", "Cannot call GetFederationToken with session credentials")
	}
	ss := &session{keyID: randID("ASIA", 16), secret: randSecret(), token: sessionToken(), expires: c.now.Add(d), name: name, federated: true}
	ss.policy, _ = c.in["Policy"].(string)
	s.sessions[ss.keyID] = ss
	return map[string]any{
		"Credentials":   credentialsTree(ss),
		"FederatedUser": map[string]any{"FederatedUserId": s.account + ":" + name, "Arn": s.federatedARN(ss)},
	}, nil
}

// roleSessionName is AssumeRole's documented RoleSessionName: 2 to 64 of
// [\w+=,.@-].
var roleSessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// assumeRole answers STS AssumeRole for a role made with CreateRole: any
// caller of the account may assume it (the stand-in keeps no trust
// policies); DurationSeconds is 900 s up to the role's maximum session
// (default 1 h), 1 h when absent.
func (s *Server) assumeRole(c *call) (map[string]any, error) {
	arn, _ := c.in["RoleArn"].(string)
	name, _ := c.in["RoleSessionName"].(string)
	if !roleSessionName.MatchString(name) {
		return nil, clientErr(400, "ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var r *role
	for _, cand := range s.roles {
		if s.roleARN(cand) == arn {
			r = cand
		}
	}
	if r == nil {
		return nil, clientErr(403, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", s.callerARN(c.caller), arn))
	}
	d := time.Hour
	if n, ok := c.in["DurationSeconds"].(int64); ok {
		d = time.Duration(n) * time.Second
	}
	if d < 15*time.Minute || d > r.maxSession {
		return nil, clientErr(400, "ValidationError", fmt.Sprintf("The requested DurationSeconds exceeds the MaxSessionDuration set for this role or is under 900 seconds (%d s).", int(d.Seconds())))
	}
	ss := &session{keyID: randID("ASIA", 16), secret: randSecret(), token: sessionToken(), expires: c.now.Add(d), role: r, name: name}
	ss.policy, _ = c.in["Policy"].(string)
	s.sessions[ss.keyID] = ss
	return map[string]any{
		"Credentials": credentialsTree(ss),
		"AssumedRoleUser": map[string]any{
			"AssumedRoleId": r.id + ":" + name,
			"Arn":           s.assumedRoleARN(ss),
		},
	}, nil
}

// callerARN is the ARN of whoever signed a request; s.mu is held.
func (s *Server) callerARN(v *verified) string {
	switch {
	case v.key != nil:
		return s.userARN(v.key.user)
	case v.sess.role != nil:
		return s.assumedRoleARN(v.sess)
	case v.sess.federated:
		return s.federatedARN(v.sess)
	default:
		return s.userARN(v.sess.user)
	}
}
